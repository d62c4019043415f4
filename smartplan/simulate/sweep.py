"""`simulate`: run a spec over a grid of territory counts, seeds and variants."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from smartplan.encode import encode
from smartplan.errors import FilterError, InputError, SmartPlanWarning
from smartplan.simulate.executors import Executor, LocalExecutor
from smartplan.simulate.grid import build_tasks, parse_territory_counts, seed_list
from smartplan.simulate.run import INTERRUPTED, Row
from smartplan.simulate.variants import SpecSource, resolve_variants
from smartplan.spec import PlanSpec, numbered_territories

LEADING_COLUMNS = ["run", "variant", "territories", "seed", "feasible", "error", "cost"]
TRAILING_COLUMNS = [
    "seconds",
    "warnings",
    "kernels_compiled",
    "kernels_loaded",
    "worker",
]


def simulate(
    accounts: pd.DataFrame,
    spec: SpecSource,
    territories: str | int | Iterable[int] | None = None,
    seeds: int | Iterable[int] = 5,
    variants: Mapping[str, SpecSource] | Sequence[str | Path] | None = None,
    executor: Executor | None = None,
    moves: int | None = None,
    time_limit: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Plan `accounts` for every territory count x seed x variant and return one row per run.

    Parameters
    ----------
    accounts
        One row per account, as for `solve`.
    spec
        The base spec: a `PlanSpec`, a TOML file or a dict in the TOML layout.
    territories
        Territory counts: `range(8, 16)`, `"8..15"`, `"8,10,12"` or one number (default:
        the base spec's count). A count N plans N numbered territories T01..TN, which
        replace a [[territories]] table.
    seeds
        A number of consecutive seeds starting at the base spec's `plan.seed`, or the seeds.
    variants
        Other specs by name, or TOML files named by their stem; partial TOML is layered over
        the base spec (see `smartplan.simulate.variants`). The base spec runs as "base".
    executor
        `LocalExecutor()` (the default: one process per core) or `DaskExecutor(...)`. The
        local workers start with the spawn method, which imports the calling script again,
        so a script needs the `if __name__ == "__main__":` guard around its sweep.
    moves, time_limit
        Moves per chain and seconds per run, overriding the specs' search settings.
    progress
        Show a progress bar on stderr.

    Returns
    -------
    DataFrame
        One row per run in grid order: run, variant, territories, seed, feasible, error,
        cost, `max_deviation: <criterion>` per balance criterion, moved_share,
        `overlay_ratio: <field>`, accounts per territory, moves, stopped_by, seconds,
        warnings, kernels compiled and loaded by the run, and the worker. A failed run has
        feasible False and its message in `error`. When Ctrl-C stops the sweep, the rows of
        the finished runs are returned and `attrs["interrupted"]` is True.
    """
    specs = resolve_variants(spec, variants)
    base = specs["base"]
    counts = parse_territory_counts(
        territories if territories is not None else len(base.territories)
    )
    tasks = build_tasks(specs, counts, seed_list(seeds, base.seed), moves, time_limit)
    check_accounts(accounts, specs)
    warned = _warn_replaced_territories(specs)

    finished: dict[int, Row] = {}
    bar = _progress_bar(len(tasks), progress)

    def on_row(row: Row) -> None:
        # An executor may report a run twice when Ctrl-C lands inside this callback.
        if row.get("stopped_by") == INTERRUPTED or row["run"] in finished:
            return
        finished[row["run"]] = row
        if bar is not None:
            failed = sum(not r["feasible"] for r in finished.values())
            left = len(tasks) - len(finished)
            bar.set_postfix_str(f"{left} left, {failed} failed", refresh=False)
            bar.update(1)

    interrupted = False
    try:
        (executor or LocalExecutor()).run(accounts, tasks, on_row)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()

    rows = list(finished.values())
    frame = rows_frame(rows)
    frame.attrs["interrupted"] = interrupted
    frame.attrs["runs_planned"] = len(tasks)
    if interrupted:
        warnings.warn(
            f"the sweep was interrupted: {len(rows)} of {len(tasks)} runs finished and are "
            f"kept; the other {len(tasks) - len(rows)} were stopped or never started",
            SmartPlanWarning,
            stacklevel=2,
        )
    if not warned:
        _warn_run_warnings(frame)
    return frame


def rows_frame(rows: list[Row]) -> pd.DataFrame:
    """Return the rows as a DataFrame in grid order with a stable column order."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=LEADING_COLUMNS + TRAILING_COLUMNS)
    frame = frame.sort_values("run", kind="stable").reset_index(drop=True)
    middle = [c for c in frame.columns if c not in LEADING_COLUMNS + TRAILING_COLUMNS]
    columns = [c for c in LEADING_COLUMNS if c in frame] + middle
    columns += [c for c in TRAILING_COLUMNS if c in frame]
    return frame[columns]


def check_accounts(accounts: pd.DataFrame, specs: Mapping[str, PlanSpec]) -> None:
    """Encode the table under each variant once, so that bad input fails before any run.

    Raises the `InputError` or `FilterError` of the first variant that cannot read the table,
    naming the variant when the sweep has several.
    """
    if not isinstance(accounts, pd.DataFrame):
        raise InputError(
            f"accounts must be a pandas DataFrame, got {type(accounts).__name__}; read the "
            "file with smartplan.io.read_table or pandas first"
        )
    for name, spec in specs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmartPlanWarning)
            try:
                encode(accounts, spec)
            except (InputError, FilterError) as error:
                if len(specs) == 1:
                    raise
                raise type(error)(f"variant {name!r}: {error}") from None


def _warn_replaced_territories(specs: Mapping[str, PlanSpec]) -> bool:
    """Warn once when a sweep replaces a [[territories]] table by numbered territories."""
    replaced = {
        name: spec
        for name, spec in specs.items()
        if spec.territories != numbered_territories(len(spec.territories))
    }
    if not replaced:
        return False
    names = ", ".join(repr(name) for name in replaced)
    first = next(iter(replaced.values()))
    ids = ", ".join(first.territory_ids[:4]) + (", ..." if len(first.territories) > 4 else "")
    message = (
        f"the [[territories]] table of {names} ({ids}) is replaced by numbered territories "
        "T01, T02, ... for each territory count, without the table's names, tiers, "
        "capacities and caps"
    )
    owners = sorted({spec.owner_column for spec in replaced.values() if spec.owner_column})
    if owners:
        message += (
            f"; owners in column {', '.join(owners)} that are not among the numbered "
            "territories give their accounts no home territory, so keep criteria and the "
            "moved share count only the accounts whose owner still exists"
        )
    warnings.warn(message, SmartPlanWarning, stacklevel=3)
    return True


def _warn_run_warnings(frame: pd.DataFrame) -> None:
    if "warnings" not in frame or frame.empty:
        return
    warned = frame[frame["warnings"] != ""]
    if warned.empty:
        return
    first = warned.iloc[0]
    warnings.warn(
        f"{len(warned)} of {len(frame)} runs raised warnings (see the warnings column), "
        f"such as run {first['run']} ({first['variant']}, {first['territories']} "
        f"territories): {first['warnings']}",
        SmartPlanWarning,
        stacklevel=3,
    )


def _progress_bar(total: int, enabled: bool) -> Any:
    """Return a tqdm bar on stderr (runs done, elapsed and estimated time left), or None."""
    if not enabled:
        return None
    from tqdm import tqdm

    # mininterval=0 redraws after every run; tqdm's default skips updates within 0.1 s.
    bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True, mininterval=0)
    bar.set_postfix_str(f"{total} left, 0 failed")
    return bar
