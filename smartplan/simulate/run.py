"""One run of a sweep: plan the accounts for one grid point and return one row of figures.

Each run uses one numba thread, so a worker per core runs without oversubscription. The
spec's chain count is kept: chains run one after the other in that thread and give the
same plan as `smartplan plan` with the same seed and move budget, because each chain owns
its random stream.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba
import numpy as np
import pandas as pd

from smartplan.errors import SmartPlanError
from smartplan.plan import Plan, solve
from smartplan.simulate.grid import RunTask
from smartplan.simulate.warmup import kernel_cache_counts, worker_name
from smartplan.spec import validate_spec

Row = dict[str, Any]

MAX_DEVIATION = "max_deviation: "
OVERLAY_RATIO = "overlay_ratio: "
INTERRUPTED = "interrupted"


def run_task(
    accounts: pd.DataFrame, task: RunTask, should_stop: Callable[[], bool] | None = None
) -> Row:
    """Plan `accounts` for one grid point and return its row.

    A run that fails with a `SmartPlanError` (an invalid spec for this territory count, an
    infeasible cap) returns a row with `feasible` False and the message in `error`. Any
    other exception propagates. Warnings are kept in the row's `warnings` column.
    """
    started = time.perf_counter()
    compiled_before, loaded_before = kernel_cache_counts()
    row: Row = {
        "run": task.run,
        "variant": task.variant,
        "territories": task.territories,
        "seed": task.seed,
    }
    # NOTE: catch_warnings swaps process-wide state, so a worker that runs several tasks
    # in threads at once may file a warning under another run's row.
    with warnings.catch_warnings(record=True) as caught, _one_numba_thread():
        warnings.simplefilter("always")
        try:
            spec = task.spec.with_territory_count(task.territories)
            validate_spec(spec, source=f"variant {task.variant!r}")
            plan = solve(
                accounts,
                spec,
                seed=task.seed,
                moves=task.moves,
                time_limit=task.time_limit,
                should_stop=should_stop,
            )
        except SmartPlanError as error:
            row.update({"feasible": False, "error": str(error)})
        else:
            row.update({"feasible": True, "error": ""})
            row.update(plan_figures(plan))
    compiled_after, loaded_after = kernel_cache_counts()
    row["seconds"] = time.perf_counter() - started
    row["warnings"] = "; ".join(dict.fromkeys(str(w.message) for w in caught))
    row["kernels_compiled"] = compiled_after - compiled_before
    row["kernels_loaded"] = loaded_after - loaded_before
    row["worker"] = worker_name()
    return row


def plan_figures(plan: Plan) -> Row:
    """Return the scorecard summary of a plan as row columns.

    `max_deviation: <criterion>` is the largest |sum - target| / target of any territory
    for each balance and weight criterion; `overlay_ratio: <field>` is the mean number of
    distinct values of a grouped or overlay field per territory.
    """
    summary = plan.scorecard.summary
    figures: Row = {"cost": plan.cost}
    criteria = plan.scorecard.criteria
    balanced = criteria[criteria["kind"].isin(["balance", "weight"])]
    deviations = balanced["max_deviation"].to_numpy(dtype=np.float64)
    for label, deviation in zip(balanced["criterion"], deviations, strict=True):
        figures[MAX_DEVIATION + str(label)] = float(deviation)
    figures["moved_share"] = float(summary["moved_share"])
    for name, ratio in summary["overlay_ratio"].items():
        figures[OVERLAY_RATIO + name] = float(ratio)
    figures["accounts_per_territory_min"] = int(summary["accounts_per_territory_min"])
    figures["accounts_per_territory_max"] = int(summary["accounts_per_territory_max"])
    figures["limits_hold"] = bool(summary["limits_hold"])
    figures["moves"] = int(plan.stats.moves_evaluated)
    figures["stopped_by"] = plan.stats.stopped_by
    return figures


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """Run parallel kernels on one thread; numba keeps this setting per calling thread."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
