"""The `cover` and `resolve` commands: leave coverage on the command line.

Both are registered on the `smartplan` group in `smartplan.cli`, which turns a
`SmartPlanError` into one `error:` line and exit status 2. Every input is checked before
an output file is written.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click
import pandas as pd

from smartplan.cli_options import moves_option, seed_option, sheet_option, spec_option
from smartplan.coverage import Absence, Coverage, CoverResult, cover, parse_day
from smartplan.coverage.absence import absence_of
from smartplan.errors import InputError

_COVERAGE_SUFFIXES = (".csv", ".parquet", ".pq")


@click.command("cover")
@click.argument("plan_path", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--accounts",
    "accounts_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Accounts table the plan was made from.",
)
@spec_option("Plan spec (TOML) whose balance criteria share out the accounts.")
@click.option("--absent", "territory", required=True, help="Id of the absent territory.")
@click.option("--start", required=True, help="First day of the absence, YYYY-MM-DD.")
@click.option(
    "--end",
    required=True,
    help="First day back, YYYY-MM-DD: the absence covers the days [start, end).",
)
@click.option(
    "--team",
    default=None,
    help="Accounts column with one value per territory; only territories with the absent "
    "territory's value cover it (default: every other territory).",
)
@click.option(
    "--return-to",
    "return_to",
    default=None,
    help="Territory that takes the accounts over for good on the end date; may be a new id.",
)
@seed_option()
@moves_option("Moves per chain of each sub-plan (overrides search.moves).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Coverage file to write: .csv or .parquet.",
)
@sheet_option()
def cover_command(
    plan_path: Path,
    accounts_path: Path,
    spec_path: Path,
    territory: str,
    start: str,
    end: str,
    team: str | None,
    return_to: str | None,
    seed: int | None,
    moves: int | None,
    out: Path,
    sheet: str | None,
) -> None:
    """Cover an absent territory in PLAN (a plan or a coverage file) and write the coverage."""
    from smartplan.io import read_table, write_table
    from smartplan.spec import load_spec

    absence = Absence(
        territory=territory.strip(),
        start=parse_day(start, "--start"),
        end=parse_day(end, "--end"),
        return_to=return_to.strip() if return_to is not None else None,
    )
    _check_coverage_path(out)
    spec = load_spec(spec_path)
    plan = Coverage.from_table(_read(plan_path, "plan"), str(plan_path))
    accounts = read_table(accounts_path, sheet=sheet)
    result = cover(plan, accounts, spec, absence, team=team, seed=seed, moves=moves)
    for finding in result.findings:
        click.echo(f"relaxed: {finding}", err=True)
    click.echo(_cover_report(result))
    write_table(result.coverage.to_frame(), out)
    click.echo(f"wrote {out}")


@click.command("resolve")
@click.argument(
    "covered_path", metavar="COVERED_PLAN", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--as-of", "as_of", required=True, help="Day to resolve, YYYY-MM-DD.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the owners (account_id, territory, reason) here: .csv, .parquet or .xlsx.",
)
def resolve_command(covered_path: Path, as_of: str, out: Path | None) -> None:
    """Print the accounts per territory on one day, or write every account's owner then."""
    from smartplan.io import check_output_path, write_table

    day = parse_day(as_of, "--as-of")
    if out is not None:
        check_output_path(out)
    coverage = Coverage.from_table(_read(covered_path, "coverage"), str(covered_path))
    owners = coverage.owners_on(day)
    if out is not None:
        write_table(owners, out)
        click.echo(f"wrote the owners of {len(owners)} accounts on {day} to {out}")
        return
    click.echo(_owner_counts(coverage, owners, day))


def _read(path: Path, what: str) -> pd.DataFrame:
    from smartplan.io import read_table

    if not path.exists():
        raise InputError(f"{what} file not found: {path}")
    # NOTE: CSV ids that look like numbers, such as "00123", are read as numbers, here and
    # in the accounts table alike, so they match but lose their leading zeros.
    return read_table(path)


def _check_coverage_path(path: Path) -> None:
    if path.suffix.lower() not in _COVERAGE_SUFFIXES:
        raise InputError(
            f"coverage file {path} has unsupported extension {path.suffix!r}; use .csv or .parquet"
        )
    if not path.parent.exists():
        raise InputError(f"output folder {path.parent} does not exist; create it first")


def _cover_report(result: CoverResult) -> str:
    absence = result.absence
    covered = int(result.shares["added"].sum())
    lines = [
        f"covered {absence.describe()}: {covered} accounts over {len(result.teammates)} teammates"
    ]
    for item in result.recovered:
        lines.append(
            f"re-covered {item.accounts} accounts that {absence.territory} held for "
            f"{item.absence.describe()}"
        )
    table = result.shares.copy()
    for column in table.columns[3:]:
        table[column] = table[column].map(lambda share: f"{100 * share:.1f}%")
    lines += ["", table.to_string(index=False), ""]
    spread = result.spread()
    for criterion, largest, even, ratio in zip(
        spread["criterion"],
        spread["largest_share"],
        spread["even_share"],
        spread["ratio"],
        strict=True,
    ):
        lines.append(
            f"{criterion}: largest share {100 * largest:.1f}%, even split {100 * even:.1f}% "
            f"({ratio:.2f}x)"
        )
    return "\n".join(lines)


def _owner_counts(coverage: Coverage, owners: pd.DataFrame, day: date) -> str:
    covering = owners["reason"].map(lambda reason: absence_of(reason) is not None)
    counts = (
        owners.assign(covering=covering, territory=owners["territory"].replace("", "(none)"))
        .groupby("territory", sort=True)
        .agg(accounts=("account_id", "size"), covering=("covering", "sum"))
        .reset_index()
    )
    lines = [f"owners on {day}: {len(owners)} accounts in {len(counts)} territories", ""]
    lines.append(counts.to_string(index=False))
    absent = [a.describe() for a in coverage.absences() if a.overlaps(day, day + timedelta(days=1))]
    if absent:
        lines += ["", "absent: " + "; ".join(absent)]
    return "\n".join(lines)
