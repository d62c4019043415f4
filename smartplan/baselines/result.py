"""What an exact baseline returns, and the steps every baseline shares around its solver.

A `BaselinePlan` mirrors the engine's `Plan`: the assignment table, the scorecard (always
recomputed by `smartplan.metrics.score`, so its cost is exact whatever the solver's
tolerances), run statistics, plus the solver's status and its lower bound on the cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan.encode import Encoding, encode
from smartplan.engine.build import Built, build_model
from smartplan.errors import InputError
from smartplan.metrics import Scorecard, score
from smartplan.plan import decode
from smartplan.spec import PlanSpec, load_spec

OPTIMAL = "optimal"  # the solver proved that no plan costs less
FEASIBLE = "feasible"  # a plan was found, but not proven optimal within the time limit
INFEASIBLE = "infeasible"  # the solver proved that no plan meets the hard constraints
NO_SOLUTION = "no solution"  # no plan found within the time limit


@dataclass
class BaselineStats:
    """Run statistics of one exact solve."""

    solver: str
    status: str = NO_SOLUTION
    threads: int = 1
    time_limit: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    seconds: float = 0.0  # encode, build and solve
    variables: int = 0
    constraints: int = 0
    objective: float = float("nan")  # the solver's own objective value, in cost units
    objective_error: float = 0.0  # largest |objective - exact cost| from rounded data
    bound: float = float("-inf")  # lower bound on the cost of every plan, in cost units
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds, objective)


@dataclass
class BaselinePlan:
    """The best plan an exact solver found, scored like an engine plan."""

    assignment: pd.DataFrame | None  # smartplan.plan.PLAN_COLUMNS, None without a plan
    scorecard: Scorecard | None
    stats: BaselineStats
    spec: PlanSpec
    encoding: Encoding = field(repr=False)
    account_territory: np.ndarray | None = field(repr=False)  # int32[N]

    @property
    def status(self) -> str:
        return self.stats.status

    @property
    def bound(self) -> float:
        return self.stats.bound

    @property
    def cost(self) -> float:
        """The exact cost of the plan (the scorecard's), or inf without a plan."""
        return self.scorecard.cost if self.scorecard is not None else float("inf")


@dataclass
class Prepared:
    """An encoded plan problem and the clock started before encoding."""

    spec: PlanSpec
    encoding: Encoding
    built: Built
    started: float


def prepare(accounts: pd.DataFrame, spec: PlanSpec | str | Path) -> Prepared:
    """Encode the accounts under the spec and build the unit model, as `solve` does."""
    started = time.perf_counter()
    if not isinstance(spec, PlanSpec):
        spec = load_spec(spec)
    encoding = encode(accounts, spec)
    return Prepared(spec=spec, encoding=encoding, built=build_model(encoding), started=started)


def unit_assignment(encoding: Encoding, account_territory: np.ndarray) -> np.ndarray:
    """Return int64[U] territories from int[N] account territories, one per hard group."""
    account_territory = np.asarray(account_territory, dtype=np.int64)
    if account_territory.shape != (encoding.n_accounts,):
        raise InputError(
            f"the assignment to fix has {account_territory.shape[0]} entries but the plan has "
            f"{encoding.n_accounts} accounts in scope; pass one territory index per account"
        )
    units = np.full(encoding.n_units, -1, dtype=np.int64)
    units[encoding.unit] = account_territory
    if (units[encoding.unit] != account_territory).any():
        rows = np.flatnonzero(units[encoding.unit] != account_territory)
        raise InputError(
            f"the assignment to fix splits a hard group (accounts "
            f"{', '.join(str(encoding.account_ids[r]) for r in rows[:5])}); give every "
            "account of a group one territory"
        )
    if (units < 0).any() or (units >= encoding.n_territories).any():
        raise InputError(
            f"the assignment to fix has territory indices outside 0..{encoding.n_territories - 1}"
        )
    return units


def finish(
    prepared: Prepared, stats: BaselineStats, unit_territory: np.ndarray | None
) -> BaselinePlan:
    """Decode and score the solver's plan (int[U] territory per unit, or None)."""
    encoding = prepared.encoding
    stats.seconds = time.perf_counter() - prepared.started
    if unit_territory is None:
        return BaselinePlan(
            assignment=None,
            scorecard=None,
            stats=stats,
            spec=prepared.spec,
            encoding=encoding,
            account_territory=None,
        )
    account_territory = np.asarray(unit_territory, dtype=np.int32)[encoding.unit]
    return BaselinePlan(
        assignment=decode(encoding, prepared.built, account_territory),
        scorecard=score(encoding, account_territory),
        stats=stats,
        spec=prepared.spec,
        encoding=encoding,
        account_territory=account_territory,
    )
