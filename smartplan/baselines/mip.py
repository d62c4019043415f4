"""The plan as a mixed-integer program, solved by HiGHS (highspy).

Variables, for U units, T territories, B balance terms and G soft-group values that two or
more units hold:

- x[u, t] binary: unit u goes to territory t (a pinned unit has only its territory open);
- d[b, t] >= 0: weighted cost of territory t's deviation from the band of term b;
- y[g, t] in [0, 1]: value g is present in t (y >= x of every unit holding g; minimising
  pushes it to the maximum, which is 0 or 1 when x is integral).

Rows: sum_t x[u, t] = 1; for each (b, t) both d >= c_b (S - hi) and d >= c_b (lo - S), where
S = sum_u v[u] x[u, t] and c_b = weight * bal_scale; y[g, t] >= x[u, t]; every limit as
lo <= sum counts * x <= hi. The objective is the engine's weighted cost: sum d, plus each
keep weight times (1 - x[u, home]), plus each group weight times (sum_t y[g, t] - 1).

The deviations are measured in weighted cost units, so HiGHS's primal feasibility tolerance
(set to 1e-9) bounds the error of each row in the units of the objective.
"""

from __future__ import annotations

import time
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from smartplan.baselines.formulation import Formulation, formulate
from smartplan.baselines.result import (
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION,
    OPTIMAL,
    BaselinePlan,
    BaselineStats,
    finish,
    prepare,
    unit_assignment,
)
from smartplan.encode import NO_LIMIT
from smartplan.spec import PlanSpec

_INF = highspy.kHighsInf


def solve_mip(
    accounts: pd.DataFrame,
    spec: PlanSpec | str | Path,
    time_limit: float = 60.0,
    threads: int = 1,
    seed: int = 0,
    rel_gap: float = 1e-9,
    fix: np.ndarray | None = None,
) -> BaselinePlan:
    """Solve the plan exactly with HiGHS, within `time_limit` seconds of solver time.

    `rel_gap` is HiGHS's mip_rel_gap: the solve stops as optimal once the incumbent is
    within this relative distance of the bound. `fix` (int[N] territory index per account)
    fixes every unit to that plan, which makes the objective the cost of that plan.
    """
    prepared = prepare(accounts, spec)
    formulation = formulate(prepared.built.model)
    fixed = unit_assignment(prepared.encoding, fix) if fix is not None else None
    stats = BaselineStats(solver="highs", threads=threads, time_limit=time_limit)
    unit_territory = _solve(formulation, stats, time_limit, threads, seed, rel_gap, fixed)
    return finish(prepared, stats, unit_territory)


class _Layout:
    """Column offsets of the x, d and y blocks."""

    def __init__(self, formulation: Formulation) -> None:
        n_units, n_territories = formulation.n_units, formulation.n_territories
        self.n_territories = n_territories
        self.x = 0
        self.d = n_units * n_territories
        self.y = self.d + len(formulation.balance) * n_territories
        self.n_columns = self.y + len(formulation.groups.weight) * n_territories

    def x_index(self, units: np.ndarray, territories: np.ndarray | int) -> np.ndarray:
        return self.x + np.asarray(units, dtype=np.int64) * self.n_territories + territories


class _Rows:
    """Rows collected as COO triplets with their bounds."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.count = 0

    def add(
        self,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        """Add rows numbered 0..len(lower)-1 locally; `row` indexes them."""
        self.rows.append(np.asarray(row, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.asarray(val, dtype=np.float64))
        self.lower.append(np.asarray(lower, dtype=np.float64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        self.count += len(lower)


def build_matrix(
    formulation: Formulation,
) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Layout]:
    """Return (A, row_lower, row_upper, cost, col_lower, col_upper, layout) of the MIP."""
    layout = _Layout(formulation)
    n_units, n_territories = formulation.n_units, formulation.n_territories
    units = np.arange(n_units, dtype=np.int64)
    territories = np.arange(n_territories, dtype=np.int64)
    rows = _Rows()

    # Each unit in exactly one territory.
    rows.add(
        np.repeat(units, n_territories),
        layout.x_index(np.repeat(units, n_territories), np.tile(territories, n_units)),
        np.ones(n_units * n_territories),
        np.ones(n_units),
        np.ones(n_units),
    )

    for b, balance in enumerate(formulation.balance):
        nonzero = np.flatnonzero(balance.values != 0.0)
        coef = balance.weight * balance.values[nonzero]
        for t in range(n_territories):
            d_col = layout.d + b * n_territories + t
            cols = np.append(layout.x_index(nonzero, t), d_col)
            # d >= c (S - hi)  <=>  c S - d <= c hi
            rows.add(
                np.zeros(len(cols)),
                cols,
                np.append(coef, -1.0),
                np.array([-_INF]),
                np.array([balance.weight * balance.hi[t]]),
            )
            # d >= c (lo - S)  <=>  c S + d >= c lo
            rows.add(
                np.zeros(len(cols)),
                cols,
                np.append(coef, 1.0),
                np.array([balance.weight * balance.lo[t]]),
                np.array([_INF]),
            )

    groups = formulation.groups
    if len(groups.weight):
        holder = np.repeat(np.arange(len(groups.weight), dtype=np.int64), np.diff(groups.ptr))
        n_links = len(groups.units) * n_territories
        link = np.arange(n_links, dtype=np.int64)
        link_unit = np.repeat(groups.units, n_territories)
        link_value = np.repeat(holder, n_territories)
        link_territory = np.tile(territories, len(groups.units))
        # y[g, t] - x[u, t] >= 0
        rows.add(
            np.concatenate([link, link]),
            np.concatenate(
                [
                    layout.y + link_value * n_territories + link_territory,
                    layout.x_index(link_unit, link_territory),
                ]
            ),
            np.concatenate([np.ones(n_links), -np.ones(n_links)]),
            np.zeros(n_links),
            np.full(n_links, _INF),
        )

    for limit in formulation.limits:
        for t in range(n_territories):
            upper = _INF if limit.hi[t] >= NO_LIMIT else float(limit.hi[t])
            rows.add(
                np.zeros(len(limit.units)),
                layout.x_index(limit.units, t),
                limit.counts.astype(np.float64),
                np.array([float(max(limit.lo[t], 0))]),
                np.array([upper]),
            )

    matrix = sp.csc_matrix(
        (
            np.concatenate(rows.vals),
            (np.concatenate(rows.rows), np.concatenate(rows.cols)),
        ),
        shape=(rows.count, layout.n_columns),
    )

    cost = np.zeros(layout.n_columns)
    cost[layout.d : layout.y] = 1.0
    np.add.at(
        cost, layout.x_index(formulation.keep_unit, formulation.keep_home), -formulation.keep_weight
    )
    cost[layout.y :] = np.repeat(groups.weight, n_territories)

    col_lower = np.zeros(layout.n_columns)
    col_upper = np.ones(layout.n_columns)
    col_upper[layout.d : layout.y] = _INF
    pinned = np.flatnonzero(formulation.unit_pin >= 0)
    col_upper[
        layout.x_index(np.repeat(pinned, n_territories), np.tile(territories, len(pinned)))
    ] = 0
    col_upper[layout.x_index(pinned, formulation.unit_pin[pinned])] = 1
    col_lower[layout.x_index(pinned, formulation.unit_pin[pinned])] = 1
    return (
        matrix,
        np.concatenate(rows.lower),
        np.concatenate(rows.upper),
        cost,
        col_lower,
        col_upper,
        layout,
    )


def _solve(
    formulation: Formulation,
    stats: BaselineStats,
    time_limit: float,
    threads: int,
    seed: int,
    rel_gap: float,
    fixed: np.ndarray | None,
) -> np.ndarray | None:
    build_started = time.perf_counter()
    matrix, row_lower, row_upper, cost, col_lower, col_upper, layout = build_matrix(formulation)
    n_units, n_territories = formulation.n_units, formulation.n_territories
    if fixed is not None:
        # Close every other territory; a pin elsewhere leaves the unit with none (infeasible).
        chosen = layout.x_index(np.arange(n_units), fixed)
        open_upper = col_upper[chosen].copy()
        col_upper[layout.x : layout.d] = 0
        col_upper[chosen] = open_upper
        col_lower[chosen] = 1
    integrality = np.zeros(layout.n_columns, dtype=np.int32)
    integrality[layout.x : layout.d] = int(highspy.HighsVarType.kInteger.value)

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("random_seed", int(seed))
    highs.setOptionValue("mip_rel_gap", float(rel_gap))
    highs.setOptionValue("primal_feasibility_tolerance", 1e-9)
    highs.setOptionValue("mip_feasibility_tolerance", 1e-9)
    highs.passModel(
        layout.n_columns,
        matrix.shape[0],
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise.value),
        int(highspy.ObjSense.kMinimize.value),
        formulation.constant,
        cost,
        col_lower,
        col_upper,
        row_lower,
        row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        integrality,
    )
    stats.variables = layout.n_columns
    stats.constraints = int(matrix.shape[0])

    solve_started = time.perf_counter()
    stats.build_seconds = solve_started - build_started

    def record(event: highspy.highs.HighsCallbackEvent) -> None:
        stats.trace.append(
            (time.perf_counter() - solve_started, float(event.data_out.objective_function_value))
        )

    highs.cbMipImprovingSolution.subscribe(record)
    highs.run()
    stats.solve_seconds = time.perf_counter() - solve_started

    model_status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if model_status == highspy.HighsModelStatus.kOptimal:
        stats.status = OPTIMAL
    elif model_status == highspy.HighsModelStatus.kInfeasible:
        stats.status = INFEASIBLE
    else:
        stats.status = FEASIBLE if has_solution else NO_SOLUTION
    if not has_solution:
        return None
    stats.objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    stats.bound = bound if np.isfinite(bound) or stats.status != OPTIMAL else stats.objective
    values = np.asarray(highs.getSolution().col_value)[layout.x : layout.d]
    return values.reshape(n_units, n_territories).argmax(axis=1)
