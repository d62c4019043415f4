"""Read the accounts file of a spec: ids and territory columns as text, metrics as numbers.

`read_accounts` takes the columns it reads from the spec. It reads the id, owner, pin,
parent and group columns as strings, so "00123" and territory ids such as "007" survive.
It reads the metric columns as strings too and converts them with `smartplan.numbers`
("$1,234.50", "1.234,50 €"). A metric column with a cell that is not a number stays text,
so that `smartplan.columns.metric_values` reports the rows when a criterion counts them.
No other column is cleaned.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan.errors import FilterError, InfeasibleError, InputError
from smartplan.io import SOURCE_ATTR, read_table
from smartplan.numbers import DECIMAL_ATTR, parse_numbers
from smartplan.spec import Balance, Group, Keep, PlanSpec, Weight


@dataclass(frozen=True)
class SpecColumns:
    """The columns a spec reads, by spec name (before `[accounts.columns]` mapping)."""

    text: tuple[str, ...]  # the id and the territory, family and group columns
    metrics: tuple[str, ...]
    filtered: tuple[str, ...]  # columns named in scope and where filters


def spec_columns(spec: PlanSpec) -> SpecColumns:
    """Return the columns `spec` reads from an accounts table."""
    text = [spec.id_column]
    metrics: list[str] = []
    filtered: list[str] = []
    for name in (spec.owner, spec.pin, spec.parent):
        if name is not None:
            text.append(name)
    if spec.scope is not None:
        filtered.extend(sorted(spec.scope.columns()))
    for criterion in spec.criteria:
        if isinstance(criterion, Keep):
            text.append(criterion.owner)
        if isinstance(criterion, Group):
            text.append(criterion.field)
        if isinstance(criterion, Balance | Weight | Keep) and criterion.metric is not None:
            metrics.append(criterion.metric)
        if criterion.where is not None:
            filtered.extend(sorted(criterion.where.columns()))
    return SpecColumns(
        text=tuple(dict.fromkeys(name for name in text if name not in metrics)),
        metrics=tuple(dict.fromkeys(metrics)),
        filtered=tuple(dict.fromkeys(filtered)),
    )


def read_accounts(path: str | Path, spec: PlanSpec, sheet: str | None = None) -> pd.DataFrame:
    """Read the accounts table at `path` for `spec` (see the module docstring).

    Raises `InputError` naming the file for an unreadable file, a table with no rows, or
    a header that `[accounts.columns]` maps to but the file lacks.
    """
    path = Path(path)
    columns = spec_columns(spec)
    header_of = dict(spec.columns)
    text_headers = {header_of.get(name, name) for name in (*columns.text, *columns.metrics)}
    frame = read_table(path, sheet=sheet, text_columns=text_headers)
    if len(frame) == 0:
        raise InputError(f"{path} has a header but no account rows")
    _check_mapped_headers(frame, spec, columns, path)
    decimal = str(frame.attrs.get(DECIMAL_ATTR, "."))
    for name in columns.metrics:
        header = header_of.get(name, name)
        if header in frame.columns:
            frame[header] = _numbers_if_valid(frame[header], decimal)
    frame.attrs[SOURCE_ATTR] = str(path)
    return frame


def _numbers_if_valid(column: pd.Series, decimal: str) -> pd.Series:
    """Return the column as float64 when every cell is a number in one currency, else as is."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column
    parsed = parse_numbers(column, decimal)
    currencies = set(parsed.currency[pd.notna(parsed.currency)])
    if parsed.invalid.any() or len(currencies) > 1:
        return column
    return pd.Series(parsed.values, index=column.index, name=column.name, dtype=np.float64)


def _check_mapped_headers(
    frame: pd.DataFrame, spec: PlanSpec, columns: SpecColumns, path: Path
) -> None:
    """Reject a used spec name whose `[accounts.columns]` header is not in the file."""
    used = {*columns.text, *columns.metrics, *columns.filtered}
    headers = [str(name) for name in frame.columns]
    for name, header in spec.columns.items():
        if name not in used or header in frame.columns:
            continue
        close = difflib.get_close_matches(header, headers, n=3, cutoff=0.5)
        hint = f"; closest headers: {', '.join(repr(h) for h in close)}" if close else ""
        raise InputError(
            f"{path} has no column {header!r}, which [accounts.columns] maps to {name!r}"
            f"{hint}. Fix the header in the file or the mapping in the spec"
        )


@contextlib.contextmanager
def errors_name_file(path: str | Path) -> Iterator[None]:
    """Prefix the message of an input, filter or infeasibility error raised inside with `path`.

    Errors about a table's columns, rows and accounts are raised where the file name is
    unknown; this names the file for the command line. A message that already names it is
    left alone.
    """
    try:
        yield
    except (InputError, FilterError, InfeasibleError) as error:
        message = str(error)
        if str(path) in message:
            raise
        raise type(error)(f"{path}: {message}") from error
