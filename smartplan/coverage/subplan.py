"""Share the accounts of an absent territory over its teammates with a plan within the plan.

The sub-plan's territories are the teammates. Its accounts are the absent territory's
accounts, free to move, plus every account the teammates already hold in the window,
pinned to its holder. The balance criteria therefore measure each teammate's total load,
and the absent accounts fill the gaps. The spec's criteria are adapted as follows:

- `balance` and `group` criteria are kept as they are.
- `keep` criteria are dropped: the home territory of the covered accounts is the absent one.
- `weight` criteria are kept when every tier named in their shares has a teammate, and
  dropped otherwise, which includes all shares given per territory id. Shares set for
  the whole plan no longer sum to 1 over the teammates.
- `limit` criteria are kept, restricted to the listed territories that are teammates, and
  dropped when none is.
- Without any balance or weight criterion left, the account count is balanced.

The spec's scope, owner and pin column do not apply to the sub-plan, unmatched accounts are
distributed, and pinned accounts count in the balance. Tolerance bands that no sub-plan can
meet do not stop the covering: they are returned as findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from smartplan.encode import Encoding
from smartplan.errors import InfeasibleError
from smartplan.plan import solve
from smartplan.spec import (
    Balance,
    Criterion,
    Group,
    Keep,
    PlanSpec,
    Territory,
    Weight,
    validate_spec,
)

PIN_COLUMN = "_coverage_holder"


@dataclass(frozen=True)
class SharedOut:
    """The result of a sub-plan.

    `new_owner` maps each covered account to its teammate. `shares` has one row per
    teammate: `held` (accounts pinned to it), `added` (covered accounts it receives), and
    per balance criterion its share of the covered accounts' total, as a fraction.
    """

    new_owner: dict[str, str]
    shares: pd.DataFrame
    findings: list[str]


def share_out(
    accounts: pd.DataFrame,
    spec: PlanSpec,
    scope: Sequence[str],
    peers: Sequence[Territory],
    held: Mapping[str, str],
    seed: int | None,
    moves: int | None,
    context: str,
) -> SharedOut:
    """Assign every account in `scope` to one of `peers`, balancing the peers' totals.

    `accounts` is indexed by account id, with the spec's column names. `held` maps the
    accounts the peers already own to their holder. `context` opens error messages.
    """
    in_scope = set(scope)
    rows = [account for account in accounts.index if account in in_scope or account in held]
    frame = accounts.loc[rows].reset_index(names=spec.id_column)
    frame[PIN_COLUMN] = [held.get(account) for account in rows]
    sub_spec = derived_spec(spec, peers)
    try:
        plan = solve(frame, sub_spec, seed=seed, moves=moves, relax=True)
    except InfeasibleError as error:
        raise InfeasibleError(f"{context}: {error}") from None
    territories = plan.assignment.set_index("account_id")["territory"]
    new_owner = {account: str(territories[account]) for account in scope}
    return SharedOut(
        new_owner=new_owner,
        shares=_shares(plan.encoding, plan.account_territory, in_scope, held),
        findings=[f"{context}: {finding}" for finding in plan.findings],
    )


def derived_spec(spec: PlanSpec, peers: Sequence[Territory]) -> PlanSpec:
    """Build the spec of a sub-plan over `peers` (see the module docstring)."""
    criteria = [
        kept
        for kept in (_criterion_for(criterion, peers) for criterion in spec.criteria)
        if kept is not None
    ]
    if not any(isinstance(criterion, Balance | Weight) for criterion in criteria):
        criteria.insert(0, Balance(name="accounts held"))
    derived = replace(
        spec,
        territories=tuple(peers),
        criteria=tuple(criteria),
        scope=None,
        owner=None,
        pin=PIN_COLUMN,
        pins_in_balance=True,
        unmatched="distribute",
        columns={},
    )
    validate_spec(derived, "coverage sub-plan")
    return derived


def _criterion_for(criterion: Criterion, peers: Sequence[Territory]) -> Criterion | None:
    if isinstance(criterion, Balance | Group):
        return criterion
    if isinstance(criterion, Keep):
        return None
    if isinstance(criterion, Weight):
        tiers = {peer.tier for peer in peers if peer.tier is not None}
        return criterion if set(criterion.shares) <= tiers else None
    if criterion.territories is None:
        return criterion
    ids = {peer.id for peer in peers}
    listed = tuple(tid for tid in criterion.territories if tid in ids)
    return replace(criterion, territories=listed) if listed else None


def _shares(
    encoding: Encoding, assign: np.ndarray, in_scope: set[str], held: Mapping[str, str]
) -> pd.DataFrame:
    ids = encoding.account_ids
    covered = np.array([account in in_scope for account in ids], dtype=bool)
    territory_ids = encoding.territory_ids
    table = pd.DataFrame({"territory": territory_ids})
    held_counts = pd.Series(list(held.values()), dtype=object).value_counts()
    table["held"] = [int(held_counts.get(tid, 0)) for tid in territory_ids]
    table["added"] = np.bincount(assign[covered], minlength=len(territory_ids))
    for column in range(encoding.bal_values.shape[1]):
        label = encoding.terms[int(encoding.bal_term[column])].label
        values = encoding.bal_values[covered, column]
        total = values.sum()
        received = np.bincount(assign[covered], weights=values, minlength=len(territory_ids))
        table[label] = received / total if total > 0 else np.nan
    return table
