"""Click options that several `smartplan` commands share. Each command gives its own help."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def spec_option(help_text: str) -> Callable[[F], F]:
    """Return the required `--spec` option, read into the parameter `spec_path`."""
    return click.option(
        "--spec",
        "spec_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


def seed_option() -> Callable[[F], F]:
    """Return the `--seed` option: an integer >= 0 that overrides plan.seed."""
    return click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=None,
        help="Random seed, an integer >= 0 (overrides plan.seed; default 0).",
    )


def moves_option(help_text: str) -> Callable[[F], F]:
    """Return the `--moves` option: moves per chain, at least 1."""
    return click.option("--moves", type=click.IntRange(min=1), default=None, help=help_text)


def time_limit_option(help_text: str) -> Callable[[F], F]:
    """Return the `--time-limit` option: seconds, more than 0."""
    return click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help=help_text,
    )


def sheet_option() -> Callable[[F], F]:
    """Return the `--sheet` option for accounts read from an Excel workbook."""
    return click.option("--sheet", default=None, help="Sheet name when ACCOUNTS is an .xlsx file.")
