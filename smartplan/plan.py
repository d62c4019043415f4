"""`solve`: plan an accounts table under a spec, and the `Plan` it returns."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan.encode import Encoding, encode
from smartplan.engine.build import Built, build_model
from smartplan.engine.search import SearchStats, run_search
from smartplan.errors import InfeasibleError, SpecError
from smartplan.io import write_table
from smartplan.metrics import Scorecard, score
from smartplan.presolve import presolve
from smartplan.spec import PlanSpec, Search, load_spec

PLAN_COLUMNS = ["account_id", "territory", "home_territory", "moved", "reason"]


@dataclass
class Plan:
    """The result of a run: the assignment, its scorecard and the search statistics."""

    assignment: pd.DataFrame  # PLAN_COLUMNS, one row per account in scope
    scorecard: Scorecard
    stats: SearchStats
    spec: PlanSpec
    encoding: Encoding = field(repr=False)
    account_territory: np.ndarray = field(repr=False)  # int32[N]
    findings: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.scorecard.cost

    def baseline(self) -> Scorecard | None:
        """Scorecard of the current owners, when the spec names an owner column."""
        if self.spec.owner_column is None:
            return None
        return score(self.encoding, self.encoding.home)

    def write(self, path: str | Path) -> None:
        write_table(self.assignment, path)

    def summary(self) -> str:
        stats = self.stats
        return (
            f"{len(self.assignment)} accounts in {self.encoding.n_territories} territories; "
            f"cost {self.cost:.6g}; {stats.moves_evaluated:,} moves in {stats.seconds:.2f} s "
            f"({stats.moves_per_second / 1e6:.1f} M/s, {stats.chains} chains, "
            f"stopped by {stats.stopped_by})"
        )


def solve(
    accounts: pd.DataFrame,
    spec: PlanSpec | str | Path,
    seed: int | None = None,
    time_limit: float | None = None,
    moves: int | None = None,
    chains: int | None = None,
    relax: bool = False,
    should_stop: Callable[[], bool] | None = None,
    explain: bool = False,
) -> Plan:
    """Assign every account in scope to one territory.

    Parameters
    ----------
    accounts
        One row per account; the spec names the columns used.
    spec
        A `PlanSpec` or the path of a TOML spec.
    seed, time_limit, moves, chains
        Override the spec's seed and search settings. `moves` is per chain.
    relax
        Plan even when presolve finds tolerance bands that no plan can meet; the findings
        are kept in `Plan.findings`.
    explain
        Add the columns alternative, alternative_cost and explanation to `Plan.assignment`
        (see `smartplan.explain`).
    """
    if not isinstance(spec, PlanSpec):
        spec = load_spec(spec)
    spec = _with_overrides(spec, seed, time_limit, moves, chains)
    encoding = encode(accounts, spec)
    built = build_model(encoding)
    findings = presolve(encoding, built, relax=relax)
    result = run_search(
        built,
        encoding.capacity,
        seed=spec.seed,
        chains=spec.search.chains,
        moves=spec.search.moves,
        time_limit=spec.search.time_limit,
        should_stop=should_stop,
    )
    if result.violation > 0:
        raise InfeasibleError(_violation_message(encoding, built, result.assign))
    account_territory = result.assign[encoding.unit].astype(np.int32)
    card = score(encoding, account_territory)
    plan = Plan(
        assignment=decode(encoding, built, account_territory),
        scorecard=card,
        stats=result.stats,
        spec=spec,
        encoding=encoding,
        account_territory=account_territory,
        findings=findings,
    )
    if explain:
        from smartplan.explain import with_explanations

        plan.assignment = with_explanations(plan, built)
    return plan


def _with_overrides(
    spec: PlanSpec,
    seed: int | None,
    time_limit: float | None,
    moves: int | None,
    chains: int | None,
) -> PlanSpec:
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise SpecError(
            f"time_limit = {time_limit!r} is invalid; give a positive number of seconds, "
            "or None for no limit"
        )
    for name, value in (("moves", moves), ("chains", chains)):
        whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if value is not None and not (whole and value > 0):
            raise SpecError(f"{name} = {value!r} is invalid; give a positive whole number")
    search = spec.search
    search = Search(
        chains=chains if chains is not None else search.chains,
        moves=moves if moves is not None else search.moves,
        time_limit=time_limit if time_limit is not None else search.time_limit,
        weight_ratio=search.weight_ratio,
    )
    return replace(spec, seed=spec.seed if seed is None else seed, search=search)


def decode(encoding: Encoding, built: Built, account_territory: np.ndarray) -> pd.DataFrame:
    """Build the plan table: account id, territory, home territory, moved flag and reason."""
    ids = np.array(encoding.territory_ids, dtype=object)
    home = encoding.home
    has_home = home >= 0
    moved = has_home & (account_territory != home)
    unit_sizes = np.bincount(encoding.unit, minlength=encoding.n_units)
    reason = np.full(encoding.n_accounts, "optimized", dtype=object)
    reason[has_home & ~moved] = "kept"
    reason[unit_sizes[encoding.unit] > 1] = "grouped"
    pinned = encoding.pin_reason != ""
    reason[pinned] = encoding.pin_reason[pinned]
    frame = pd.DataFrame(
        {
            "account_id": encoding.account_ids,
            "territory": ids[account_territory],
            "home_territory": np.where(has_home, ids[np.maximum(home, 0)], ""),
            "moved": moved,
            "reason": reason,
        }
    )
    if encoding.unassigned_ids:
        extra = pd.DataFrame(
            {
                "account_id": encoding.unassigned_ids,
                "territory": "",
                "home_territory": "",
                "moved": False,
                "reason": "unmatched",
            }
        )
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame


def _violation_message(encoding: Encoding, built: Built, assign: np.ndarray) -> str:
    card = score(encoding, assign[encoding.unit])
    broken = card.limits[~card.limits["holds"]]
    rows = [
        f"{row.limit} in {row.territory}: {row.count} (min {row.min}, max {row.max})"
        for row in broken.head(5).itertuples()
    ]
    return (
        "no plan found that meets every limit: "
        + "; ".join(rows)
        + ". Loosen the limits, or add territories"
    )
