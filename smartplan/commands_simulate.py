"""The `smartplan simulate` command, registered by `smartplan.cli`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd

from smartplan.cli_options import moves_option, sheet_option, spec_option, time_limit_option
from smartplan.errors import InputError

if TYPE_CHECKING:
    from smartplan.simulate import Executor
    from smartplan.spec import PlanSpec


@click.command("simulate")
@click.argument("accounts", type=click.Path(dir_okay=False, path_type=Path))
@spec_option("Base plan spec (TOML); it runs as the variant named base.")
@click.option(
    "--territories",
    required=True,
    help="Territory counts: a range such as 8..15, a list such as 8,10,12, or one number.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seeds per grid point, counted up from the spec's plan.seed.",
)
@click.option(
    "--variant",
    "variant_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another spec, or a partial TOML layered over the base spec (tables merge key by "
    "key, [[criteria]] replaces the base's criteria). Named by its file stem. Repeatable.",
)
@moves_option("Moves per chain of every run (overrides search.moves).")
@time_limit_option("Stop each run after this many seconds.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Table of runs to write (.csv, .parquet or .xlsx); the summary (OUT_summary) and "
    "the chart (OUT_chart.png) go next to it.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: one per core).",
)
@click.option(
    "--scheduler",
    default=None,
    help="Run on the Dask distributed cluster whose scheduler is at this address.",
)
@click.option(
    "--dask-local",
    type=click.IntRange(min=1),
    default=None,
    help="Run on a Dask LocalCluster of this many workers on 127.0.0.1.",
)
@sheet_option()
@click.option("--quiet", is_flag=True, help="Show no progress bar and print no summary table.")
def simulate_command(
    accounts: Path,
    spec_path: Path,
    territories: str,
    seeds: int,
    variant_paths: tuple[Path, ...],
    moves: int | None,
    time_limit: float | None,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    sheet: str | None,
    quiet: bool,
) -> None:
    """Plan ACCOUNTS for every territory count x seed x variant and compare the scorecards.

    Writes one row per run (OUT), the median, min, max and IQR over seeds per grid point
    (OUT_summary) and a PNG chart of the key figures against the territory count. A run
    that fails (an infeasible cap, say) becomes a row with its error. Ctrl-C stops the
    sweep and writes the runs that finished.
    """
    from smartplan.accounts_file import errors_name_file, read_accounts
    from smartplan.io import (
        check_output_folder,
        check_output_path,
        table_writer,
        write_files_atomic,
    )
    from smartplan.simulate import parse_territory_counts, simulate, summarize
    from smartplan.simulate.chart import chart_writer, check_chart_support, sweep_figure
    from smartplan.simulate.variants import resolve_variants

    inputs = (accounts, spec_path, *variant_paths)
    out = check_output_path(out, inputs=inputs)
    summary_path = out.with_name(f"{out.stem}_summary{out.suffix}")
    chart_path = out.with_name(f"{out.stem}_chart.png")
    check_output_path(summary_path, inputs=inputs)
    check_output_folder(chart_path, inputs=inputs)
    check_chart_support()
    executor = _executor(workers, scheduler, dask_local)
    counts = parse_territory_counts(territories)
    specs = resolve_variants(spec_path, list(variant_paths))
    with errors_name_file(accounts):
        table = read_accounts(accounts, _union_spec(specs), sheet=sheet)

    rows = simulate(
        table,
        spec_path,
        territories=counts,
        seeds=seeds,
        variants=list(variant_paths),
        executor=executor,
        moves=moves,
        time_limit=time_limit,
        progress=not quiet,
    )
    summary = summarize(rows)
    if not quiet:
        click.echo(summary_text(summary))
    if rows.attrs.get("interrupted"):
        click.echo(
            f"interrupted: writing the {len(rows)} of {rows.attrs['runs_planned']} runs "
            "that finished",
            err=True,
        )
    write_files_atomic(
        {
            out: table_writer(rows, out.suffix),
            summary_path: table_writer(summary, summary_path.suffix),
            chart_path: chart_writer(sweep_figure(summary)),
        }
    )
    failed = int((~rows["feasible"].astype(bool)).sum()) if len(rows) else 0
    click.echo(f"{len(rows)} runs, {failed} failed; wrote {out}, {summary_path} and {chart_path}")


def _executor(workers: int | None, scheduler: str | None, dask_local: int | None) -> Executor:
    from smartplan.simulate import DaskExecutor, LocalExecutor

    chosen = [name for name, value in _executor_options(workers, scheduler, dask_local) if value]
    if len(chosen) > 1:
        raise InputError(f"give only one of {', '.join(chosen)}; they choose where runs go")
    if scheduler is None and dask_local is None:
        return LocalExecutor(workers)
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(
            "--scheduler and --dask-local need Dask; install it with pip install 'smartplan[dask]'"
        ) from None
    return DaskExecutor(address=scheduler, local_workers=dask_local)


def _executor_options(
    workers: int | None, scheduler: str | None, dask_local: int | None
) -> list[tuple[str, bool]]:
    return [
        ("--workers", workers is not None),
        ("--scheduler", scheduler is not None),
        ("--dask-local", dask_local is not None),
    ]


def _union_spec(specs: dict[str, PlanSpec]) -> PlanSpec:
    """Return the base spec with the criteria of every variant, to read every column used."""
    base = specs["base"]
    criteria = tuple(c for spec in specs.values() for c in spec.criteria)
    return replace(base, criteria=criteria)


def summary_text(summary: pd.DataFrame) -> str:
    """Format the medians of each grid point as a table, then the first error of each
    grid point with failed runs."""
    shown = pd.DataFrame(
        {
            "variant": summary["variant"],
            "territories": summary["territories"],
            "feasible": [
                f"{feasible}/{runs}"
                for feasible, runs in zip(summary["feasible"], summary["runs"], strict=True)
            ],
        }
    )
    for column in summary.columns:
        if column.endswith(" median"):
            name = column.removesuffix(" median")
            shown[name] = summary[column]
    lines = [shown.to_string(index=False, float_format=lambda value: f"{value:.4g}")]
    failing = summary[summary["feasible"] < summary["runs"]]
    failed_runs = (failing["runs"] - failing["feasible"]).astype(int)
    for (_, point), failed in zip(failing.iterrows(), failed_runs, strict=True):
        lines.append(
            f"{point['variant']}, {point['territories']} territories: "
            f"{failed} of {point['runs']} runs failed: {point['error']}"
        )
    return "\n".join(lines)
