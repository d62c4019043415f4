"""A lower bound on the accounts any banded plan must move, from an LP solved by HiGHS.

The LP is the MIP of `smartplan.baselines.mip` with every deviation fixed at 0 (each
balance band is a constraint), x relaxed to [0, 1], and the objective replaced by
the number of accounts that leave their home territory. Its optimum bounds from below the
moved count of every plan that holds all bands, limits and pins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from smartplan.baselines.formulation import formulate
from smartplan.baselines.mip import build_matrix
from smartplan.baselines.result import INFEASIBLE, NO_SOLUTION, OPTIMAL, prepare
from smartplan.spec import PlanSpec


@dataclass(frozen=True)
class MovesBound:
    """The LP bound on moved accounts and how it was obtained."""

    moves: float  # nan unless status is optimal
    status: str
    accounts_with_home: int
    seconds: float


def fewest_moves_bound(
    accounts: pd.DataFrame, spec: PlanSpec | str | Path, time_limit: float = 600.0, threads: int = 1
) -> MovesBound:
    """Solve the LP relaxation of "fewest accounts moved, every band held"."""
    started = time.perf_counter()
    prepared = prepare(accounts, spec)
    encoding = prepared.encoding
    formulation = formulate(prepared.built.model)
    matrix, row_lower, row_upper, _, col_lower, col_upper, layout = build_matrix(formulation)
    col_upper[layout.d : layout.y] = 0.0

    has_home = encoding.home >= 0
    cost = np.zeros(layout.n_columns)
    # moved = sum over accounts with a home of 1 - x[unit, home]
    homes = layout.x_index(encoding.unit[has_home], encoding.home[has_home])
    np.add.at(cost, homes, -1.0)
    offset = float(has_home.sum())

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("time_limit", float(time_limit))
    # The dual simplex took over 10 minutes on 5,000 accounts and 25 territories; the
    # interior point method with crossover took 12 s (HiGHS 1.16).
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "on")
    highs.passModel(
        layout.n_columns,
        matrix.shape[0],
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise.value),
        int(highspy.ObjSense.kMinimize.value),
        offset,
        cost,
        col_lower,
        col_upper,
        row_lower,
        row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        np.zeros(layout.n_columns, dtype=np.int32),
    )
    highs.run()
    model_status = highs.getModelStatus()
    if model_status == highspy.HighsModelStatus.kOptimal:
        status, moves = OPTIMAL, float(highs.getInfo().objective_function_value)
    elif model_status == highspy.HighsModelStatus.kInfeasible:
        status, moves = INFEASIBLE, float("nan")
    else:
        status, moves = NO_SOLUTION, float("nan")
    return MovesBound(
        moves=moves,
        status=status,
        accounts_with_home=int(has_home.sum()),
        seconds=time.perf_counter() - started,
    )
