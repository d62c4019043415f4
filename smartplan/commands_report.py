"""The `smartplan explain` and `smartplan report` commands, registered by `smartplan.cli`."""

from __future__ import annotations

from pathlib import Path

import click

from smartplan.accounts_file import errors_name_file
from smartplan.cli_options import sheet_option, spec_option
from smartplan.errors import InputError
from smartplan.plan_file import PlanAssignment

REPORT_SUFFIXES = (".html", ".htm")

_accounts_argument = click.argument("accounts", type=click.Path(dir_okay=False, path_type=Path))
_spec_option = spec_option("Plan spec (TOML) the plan was made with.")
_plan_option = click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Plan file written by `smartplan plan` (account_id, territory).",
)
_sheet_option = sheet_option()


@click.command("explain")
@_accounts_argument
@click.argument("account_ids", metavar="ACCOUNT_ID...", nargs=-1, required=True)
@_spec_option
@_plan_option
@_sheet_option
def explain_command(
    accounts: Path,
    account_ids: tuple[str, ...],
    spec_path: Path,
    plan_path: Path,
    sheet: str | None,
) -> None:
    """Say why each ACCOUNT_ID is in its territory of the plan, and what moving it costs.

    Prints the reason (pinned, kept, grouped or placed by the optimizer), the best other
    territory and the criterion that would suffer most there. Then come the plan cost
    change of moving the account to each territory, and every criterion's change for the
    best one.
    """
    from smartplan.engine.build import build_model
    from smartplan.explain import explain

    plan = _load_plan(accounts, spec_path, plan_path, sheet)
    built = build_model(plan.encoding)
    texts = [explain(plan, account_id, built=built).to_text() for account_id in account_ids]
    click.echo("\n\n".join(texts))


@click.command("report")
@_accounts_argument
@_spec_option
@_plan_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write.",
)
@click.option("--title", default="Territory plan", show_default=True, help="Page title.")
@click.option(
    "--label",
    default=None,
    help="Column of account names (default: a column called name, account_name or company).",
)
@click.option(
    "--latitude",
    default=None,
    help="Latitude column for the map (default: a column called latitude or lat).",
)
@click.option(
    "--longitude",
    default=None,
    help="Longitude column for the map (default: a column called longitude, lon or lng).",
)
@_sheet_option
def report_command(
    accounts: Path,
    spec_path: Path,
    plan_path: Path,
    out: Path,
    title: str,
    label: str | None,
    latitude: str | None,
    longitude: str | None,
    sheet: str | None,
) -> None:
    """Write a self-contained HTML report of the plan.

    The page shows each criterion's balance before and after, the territory table, the
    movement between territories, a map of the accounts when they have coordinates, and
    the moved accounts with the reason for each.
    """
    from smartplan.io import check_output_folder

    if out.suffix.lower() not in REPORT_SUFFIXES:
        raise InputError(f"report file {out} must end in .html")
    check_output_folder(out, inputs=(accounts, spec_path, plan_path))
    try:
        from smartplan.report import write_report
    except ImportError as error:
        raise InputError(
            f"the report needs matplotlib ({error}); install it with "
            "pip install 'smartplan[report]'"
        ) from None

    plan = _load_plan(accounts, spec_path, plan_path, sheet)
    source = f"accounts {accounts.name} · spec {spec_path.name} · plan {plan_path.name}"
    with errors_name_file(accounts):
        write_report(
            plan,
            out,
            title=title,
            source=source,
            label=label,
            latitude=latitude,
            longitude=longitude,
        )
    click.echo(f"wrote {out}")


def _load_plan(
    accounts: Path, spec_path: Path, plan_path: Path, sheet: str | None
) -> PlanAssignment:
    """Read the accounts, the spec and the plan file, and match the plan to the accounts."""
    from smartplan.accounts_file import read_accounts
    from smartplan.encode import encode
    from smartplan.io import read_table
    from smartplan.plan_file import match_plan
    from smartplan.spec import load_spec

    spec = load_spec(spec_path)
    with errors_name_file(accounts):
        table = read_accounts(accounts, spec, sheet=sheet)
        encoding = encode(table, spec)
    with errors_name_file(plan_path):
        plan_table = read_table(plan_path, text_columns=("account_id", "territory"))
        return match_plan(encoding, plan_table, str(plan_path))
