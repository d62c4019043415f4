"""The plan as a CP-SAT model (OR-Tools), on integer data from `integer_scale`.

Variables: x[u, t] Boolean for each unit and territory; d[b, t] >= 0 integer deviation of
balance term b in territory t, in the term's integer metric units; y[g, t] Boolean for a
soft-group value present in t (x[u, t] implies y[g, t] for each unit holding g).

Constraints: exactly one territory per unit, pins, d >= S - hi and d >= lo - S with S the
integer territory sum, limits. The objective is the integer image of the engine's weighted
cost. Its optimum is optimal for the rounded data; the plan's cost is recomputed exactly by
the scorecard, and the reported bound subtracts the proven rounding error, so it holds for
the exact cost.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from smartplan.baselines.formulation import Formulation, formulate
from smartplan.baselines.integer_scale import IntegerScale, scale_formulation
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
from smartplan.errors import SmartPlanError
from smartplan.spec import PlanSpec


def solve_cpsat(
    accounts: pd.DataFrame,
    spec: PlanSpec | str | Path,
    time_limit: float = 60.0,
    threads: int = 1,
    seed: int = 0,
    fix: np.ndarray | None = None,
) -> BaselinePlan:
    """Solve the plan exactly with CP-SAT, within `time_limit` seconds of solver time.

    `threads` sets CP-SAT's number of search workers. `fix` (int[N] territory index per
    account) fixes every unit to that plan, which makes the objective the cost of that plan.
    """
    prepared = prepare(accounts, spec)
    formulation = formulate(prepared.built.model)
    fixed = unit_assignment(prepared.encoding, fix) if fix is not None else None
    stats = BaselineStats(solver="cp-sat", threads=threads, time_limit=time_limit)
    unit_territory = _solve(formulation, stats, time_limit, threads, seed, fixed)
    return finish(prepared, stats, unit_territory)


class CpsatModel:
    """A CP-SAT model of one formulation and the index of each x[u, t] variable."""

    def __init__(self, formulation: Formulation) -> None:
        self.scale = scale_formulation(formulation)
        self.model = cp_model.CpModel()
        n_units, n_territories = formulation.n_units, formulation.n_territories
        model = self.model
        x = [
            [model.new_bool_var(f"x{u}_{t}") for t in range(n_territories)] for u in range(n_units)
        ]
        self.x_index = np.array([[var.index for var in row] for row in x], dtype=np.int64)
        self.x = x
        for u in range(n_units):
            model.add_exactly_one(x[u])
        for pinned in np.flatnonzero(formulation.unit_pin >= 0):
            model.add(x[int(pinned)][int(formulation.unit_pin[pinned])] == 1)

        terms: list[cp_model.LinearExprT] = []
        coefficients: list[int] = []
        for rows in self.scale.balance:
            nonzero = np.flatnonzero(rows.values != 0)
            weights = [int(v) for v in rows.values[nonzero]]
            largest = int(rows.values.sum() + max(int(rows.lo.max()), 0))
            for t in range(n_territories):
                total = cp_model.LinearExpr.weighted_sum([x[u][t] for u in nonzero], weights)
                deviation = model.new_int_var(0, largest, f"d{len(terms)}")
                model.add(total - deviation <= int(rows.hi[t]))
                model.add(total + deviation >= int(rows.lo[t]))
                terms.append(deviation)
                coefficients.append(rows.coefficient)

        constant = 0
        for unit, home, weight in zip(
            formulation.keep_unit, formulation.keep_home, self.scale.keep, strict=True
        ):
            if weight == 0:
                continue
            # weight * (1 - x[u, home])
            constant += int(weight)
            terms.append(x[int(unit)][int(home)])
            coefficients.append(-int(weight))

        groups = formulation.groups
        for g, weight in enumerate(self.scale.group):
            members = groups.units[groups.ptr[g] : groups.ptr[g + 1]]
            present = [model.new_bool_var(f"y{g}_{t}") for t in range(n_territories)]
            for t in range(n_territories):
                for u in members:
                    model.add_implication(x[int(u)][t], present[t])
            if weight == 0:
                continue
            constant -= int(weight)
            terms.extend(present)
            coefficients.extend([int(weight)] * n_territories)

        for limit in formulation.limits:
            counts = [int(c) for c in limit.counts]
            for t in range(n_territories):
                total = cp_model.LinearExpr.weighted_sum(
                    [x[int(u)][t] for u in limit.units], counts
                )
                if limit.lo[t] > 0:
                    model.add(total >= int(limit.lo[t]))
                if limit.hi[t] < NO_LIMIT:
                    model.add(total <= int(limit.hi[t]))

        model.minimize(cp_model.LinearExpr.weighted_sum(terms, coefficients) + constant)
        self.n_constraints = len(model.proto.constraints)
        self.n_variables = len(model.proto.variables)

    def fix(self, unit_territory: np.ndarray) -> None:
        for u, t in enumerate(unit_territory):
            self.model.add(self.x[u][int(t)] == 1)


class _Incumbents(cp_model.CpSolverSolutionCallback):
    """Records (seconds, cost) of every improving solution."""

    def __init__(self, scale: IntegerScale, stats: BaselineStats, started: float) -> None:
        super().__init__()
        self.scale = scale
        self.stats = stats
        self.started = started

    def on_solution_callback(self) -> None:
        cost = self.scale.to_cost(self.objective_value)
        self.stats.trace.append((time.perf_counter() - self.started, cost))


def _solve(
    formulation: Formulation,
    stats: BaselineStats,
    time_limit: float,
    threads: int,
    seed: int,
    fixed: np.ndarray | None,
) -> np.ndarray | None:
    build_started = time.perf_counter()
    built = CpsatModel(formulation)
    if fixed is not None:
        built.fix(fixed)
    stats.objective_error = built.scale.to_cost(built.scale.error)
    stats.variables = built.n_variables
    stats.constraints = built.n_constraints

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(threads)
    solver.parameters.random_seed = int(seed)
    solve_started = time.perf_counter()
    stats.build_seconds = solve_started - build_started
    status = solver.solve(built.model, _Incumbents(built.scale, stats, solve_started))
    stats.solve_seconds = time.perf_counter() - solve_started

    if status == cp_model.MODEL_INVALID:
        raise SmartPlanError(f"CP-SAT rejected the model: {built.model.validate()}")
    if status == cp_model.INFEASIBLE:
        stats.status = INFEASIBLE
        return None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stats.status = NO_SOLUTION
        return None
    stats.status = OPTIMAL if status == cp_model.OPTIMAL else FEASIBLE
    stats.objective = built.scale.to_cost(solver.objective_value)
    stats.bound = built.scale.to_cost(solver.best_objective_bound - built.scale.error)
    solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
    return solution[built.x_index].argmax(axis=1)
