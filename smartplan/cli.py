"""The `smartplan` command line."""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click
import numpy as np
import pandas as pd

from smartplan.cli_options import (
    moves_option,
    seed_option,
    sheet_option,
    spec_option,
    time_limit_option,
)
from smartplan.errors import InputError, SmartPlanError, SmartPlanWarning

EXIT_ERROR = 2
# A second Ctrl-C aborts the run without output: 128 + SIGINT, as shells report it.
EXIT_ABORTED = 130


class _Command(click.Group):
    """Click group that turns SmartPlan errors into one message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", SmartPlanWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except SmartPlanError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(EXIT_ERROR)


def _show_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    click.echo(f"warning: {message}", err=True)


@click.group(cls=_Command)
@click.option("-v", "--verbose", is_flag=True, help="Log search progress to stderr.")
@click.version_option(package_name="smartplan")
def main(verbose: bool) -> None:
    """SmartPlan: balanced, reproducible sales territory plans."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )


@main.command()
@click.argument("accounts", type=click.Path(dir_okay=False, path_type=Path))
@spec_option("Plan spec (TOML).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Plan file to write: .csv, .parquet or .xlsx.",
)
@seed_option()
@time_limit_option("Stop the search after this many seconds.")
@moves_option("Moves per chain (overrides search.moves).")
@click.option(
    "--chains",
    type=click.IntRange(min=1),
    default=None,
    help="Search chains run in parallel (overrides search.chains).",
)
@click.option(
    "--scorecard",
    "scorecard_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scorecard file (.json or .csv); default: next to the plan.",
)
@sheet_option()
@click.option(
    "--relax",
    is_flag=True,
    help="Plan even when a tolerance band cannot hold; list the violations.",
)
@click.option("--quiet", is_flag=True, help="Print only the one-line summary.")
@click.option(
    "--explain/--no-explain",
    default=None,
    help="Add the columns alternative, alternative_cost and explanation to the plan "
    "(default: on for tables of up to 200,000 accounts).",
)
def plan(
    accounts: Path,
    spec_path: Path,
    out: Path,
    seed: int | None,
    time_limit: float | None,
    moves: int | None,
    chains: int | None,
    scorecard_path: Path | None,
    sheet: str | None,
    relax: bool,
    quiet: bool,
    explain: bool | None,
) -> None:
    """Plan ACCOUNTS under the spec and write the plan and its scorecard."""
    from smartplan.accounts_file import errors_name_file, read_accounts
    from smartplan.explain import AUTO_EXPLAIN_MAX_ACCOUNTS
    from smartplan.io import check_output_folder, check_output_path
    from smartplan.plan import solve
    from smartplan.plan_outputs import mark_run, write_plan_files
    from smartplan.spec import load_spec

    out = check_output_path(out, inputs=(accounts, spec_path))
    scorecard_path = scorecard_path or out.with_name(out.stem + "_scorecard.json")
    _check_scorecard_path(scorecard_path)
    check_output_folder(scorecard_path, inputs=(accounts, spec_path, out))
    spec = load_spec(spec_path)
    with errors_name_file(accounts):
        table = read_accounts(accounts, spec, sheet=sheet)
    if explain is None:
        explain = len(table) <= AUTO_EXPLAIN_MAX_ACCOUNTS
    if not quiet:
        click.echo("planning; press Ctrl-C to stop and keep the best plan so far", err=True)
    try:
        with _stop_on_interrupt() as stop_requested:
            with errors_name_file(accounts):
                result = solve(
                    table,
                    spec,
                    seed=seed,
                    time_limit=time_limit,
                    moves=moves,
                    chains=chains,
                    relax=relax,
                    should_stop=stop_requested,
                    explain=explain,
                )
            if not quiet:
                before = result.baseline()
                if before is not None:
                    click.echo(before.to_text("before: current owners"))
                    click.echo("")
                click.echo(result.scorecard.to_text("after: this plan"))
                click.echo("")
            for line in mark_run(result):
                click.echo(f"relaxed: {line}", err=True)
            if result.stats.stopped_by == "interrupted":
                click.echo("interrupted: writing the best plan found so far", err=True)
            write_plan_files(result, out, scorecard_path)
    except KeyboardInterrupt:
        click.echo("aborted by a second Ctrl-C; no partial file was written", err=True)
        sys.exit(EXIT_ABORTED)
    click.echo(result.summary())
    click.echo(f"wrote {out} and {scorecard_path}")


@main.command("score")
@click.argument("accounts", type=click.Path(dir_okay=False, path_type=Path))
@spec_option("Plan spec (TOML) whose criteria are measured.")
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A plan file (account_id, territory) to score.",
)
@click.option(
    "--assignment",
    "column",
    default=None,
    help="Column of ACCOUNTS holding the territory to score (default: the owner).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the scorecard here (.json or .csv).",
)
@sheet_option()
def score_command(
    accounts: Path,
    spec_path: Path,
    plan_path: Path | None,
    column: str | None,
    out: Path | None,
    sheet: str | None,
) -> None:
    """Score an existing assignment (the current owners, or a plan file) under a spec."""
    from smartplan.accounts_file import errors_name_file, read_accounts
    from smartplan.encode import encode
    from smartplan.io import check_output_folder, read_table
    from smartplan.metrics import score
    from smartplan.plan_file import match_plan
    from smartplan.spec import load_spec

    if out is not None:
        _check_scorecard_path(out)
        check_output_folder(out, inputs=(accounts, spec_path, *([plan_path] if plan_path else [])))
    spec = load_spec(spec_path)
    with errors_name_file(accounts):
        table = read_accounts(accounts, spec, sheet=sheet)
        encoding = encode(table, spec)
    if plan_path is not None:
        with errors_name_file(plan_path):
            plan_table = read_table(plan_path, text_columns=("account_id", "territory"))
            assign = match_plan(encoding, plan_table, str(plan_path)).account_territory
        title = f"scorecard of {plan_path}"
    else:
        column = column or spec.owner_column
        if column is None:
            raise InputError(
                "nothing to score: give --plan FILE or --assignment COLUMN, or name an owner "
                "column in the spec"
            )
        assign = _column_territories(encoding.frame, column, encoding.territory_ids)
        title = f"scorecard of column {column!r}"
    card = score(encoding, assign)
    click.echo(card.to_text(title))
    if out is not None:
        card.write(out)
        click.echo(f"wrote {out}")


def _check_scorecard_path(path: Path) -> None:
    if path.suffix.lower() not in (".json", ".csv"):
        raise InputError(f"scorecard file {path} must end in .json or .csv")
    if not path.parent.exists():
        raise InputError(f"output folder {path.parent} does not exist; create it first")


def _column_territories(frame: pd.DataFrame, column: str, territory_ids: list[str]) -> np.ndarray:
    from smartplan.columns import text_values

    index_of = {tid: i for i, tid in enumerate(territory_ids)}
    values = text_values(frame, column, "assignment column")
    return np.array([index_of.get(v, -1) if v is not None else -1 for v in values], dtype=np.int32)


@contextmanager
def _stop_on_interrupt() -> Iterator[Callable[[], bool]]:
    """Turn the first Ctrl-C into a stop request; a second one interrupts at once."""
    requested = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        click.echo("stopping after the current chunk of moves (Ctrl-C again to abort)", err=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous)


from smartplan.commands_coverage import cover_command, resolve_command  # noqa: E402

main.add_command(cover_command)
main.add_command(resolve_command)

from smartplan.commands_report import explain_command, report_command  # noqa: E402

main.add_command(explain_command)
main.add_command(report_command)

from smartplan.commands_simulate import simulate_command  # noqa: E402

main.add_command(simulate_command)

if __name__ == "__main__":
    sys.exit(main())
