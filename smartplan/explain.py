"""Why each account is in its territory, and what the best alternative territory would cost.

Explanations come from the engine itself. The plan's unit assignment is loaded into a search
`State`, and for every unit that is not pinned each other territory is evaluated with the
move kernels. A territory whose hard limits the move would break is infeasible. The best
alternative is the feasible territory with the smallest weighted cost delta, and ties go to
the territory listed first in the spec. The move is then applied and undone to read the
change of every criterion's cost. The explanation names the criterion whose weighted cost rises
most and, for a balance criterion, how far from its target the move leaves the territory
that loses the most balance: the receiving one or the giving one.

`alternative_cost` is a weighted cost delta, in the units of the plan cost (`Plan.cost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from numba import njit

from smartplan.encode import Encoding
from smartplan.engine.build import Built, build_model
from smartplan.engine.kernels import (
    recompute_state,
    relocate_apply,
    relocate_delta,
    relocate_violation,
)
from smartplan.engine.model import Model, State
from smartplan.errors import InputError
from smartplan.explain_text import Describer, account_sentences, unassigned_sentence
from smartplan.plan import PLAN_COLUMNS, decode

# `smartplan plan` adds explanations to tables of at most this many accounts unless
# --explain or --no-explain is given, because above it the text makes plan files large.
AUTO_EXPLAIN_MAX_ACCOUNTS = 200_000

EXPLANATION_COLUMNS = ["alternative", "alternative_cost", "explanation"]


class AssignedPlan(Protocol):
    """A plan as explanations and reports read it: a `Plan`, or a plan read from a file."""

    @property
    def encoding(self) -> Encoding: ...

    @property
    def account_territory(self) -> np.ndarray: ...  # int32[N], territory of each account


@dataclass(frozen=True)
class Explanation:
    """The reason one account is in its territory, and the cost of its best alternative."""

    account_id: str
    territory: str  # "" when the account is not assigned
    home_territory: str  # "" when it has none
    reason: str  # pinned, kept, grouped, optimized or unmatched
    group_size: int  # accounts that move with it (its unit)
    alternative: str  # best feasible other territory, "" when there is none
    alternative_cost: float  # weighted cost delta of moving there; NaN without alternative
    criterion: str  # criterion whose weighted cost rises most; "" unless the move costs more
    text: str
    changes: pd.DataFrame  # per criterion: cost now, after the move, change, weighted change
    candidates: pd.DataFrame  # per territory: feasible and weighted cost delta

    def to_text(self) -> str:
        """Render the explanation, the cost of every territory and the criteria changes."""
        lines = [f"account {self.account_id}: {self.text}"]
        if len(self.candidates):
            table = self.candidates.copy()
            table["cost change"] = [
                _candidate_cost(current, feasible, delta)
                for current, feasible, delta in zip(
                    table["current"], table["feasible"], table["cost_change"], strict=True
                )
            ]
            lines += ["", "plan cost change of moving it to each territory:"]
            lines.append(table[["territory", "name", "cost change"]].to_string(index=False))
        if len(self.changes):
            lines += ["", f"criteria if it moves to {self.alternative}:"]
            formatted = self.changes.copy()
            for column in ("cost", "cost_after", "change", "weighted_change"):
                formatted[column] = [f"{value:.6g}" for value in formatted[column]]
            lines.append(formatted.to_string(index=False))
        return "\n".join(lines)


def _candidate_cost(current: bool, feasible: bool, delta: float) -> str:
    if current:
        return "(current)"
    if not feasible:
        return "breaks a limit"
    return f"{delta:+.6g}"


@njit(cache=True)
def best_alternatives(
    model: Model, state: State, units: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best feasible other territory of each unit, its weighted delta and the term changes.

    Returns int32[M] territory (-1 when every other territory breaks a hard limit),
    float64[M] weighted cost delta (NaN without a territory) and float64[M, C] unweighted
    change of each cost term. `state` is changed while a move is measured and restored
    exactly afterwards.
    """
    n_units = units.shape[0]
    n_terms = model.weights.shape[0]
    best = np.full(n_units, -1, dtype=np.int32)
    best_delta = np.full(n_units, np.nan)
    changes = np.zeros((n_units, n_terms))
    saved_costs = np.empty(n_terms)
    saved_a = np.empty(model.bal_values.shape[1])
    saved_b = np.empty(model.bal_values.shape[1])
    for i in range(n_units):
        u = units[i]
        a = state.assign[u]
        for b in range(model.n_territories):
            if b == a or relocate_violation(model, state, u, a, b) > 0:
                continue
            delta = relocate_delta(model, state, u, a, b)
            if best[i] < 0 or delta < best_delta[i]:
                best[i] = b
                best_delta[i] = delta
        b = best[i]
        if b < 0:
            continue
        saved_costs[:] = state.costs
        saved_a[:] = state.bal_sums[:, a]
        saved_b[:] = state.bal_sums[:, b]
        relocate_apply(model, state, u, a, b)
        for k in range(n_terms):
            changes[i, k] = state.costs[k] - saved_costs[k]
        relocate_apply(model, state, u, b, a)
        # Integer counts return exactly; float sums and costs are restored from the copies.
        state.costs[:] = saved_costs
        state.bal_sums[:, a] = saved_a
        state.bal_sums[:, b] = saved_b
    return best, best_delta, changes


@njit(cache=True)
def territory_deltas(model: Model, state: State, u: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted cost delta (float64[T]) and limit violation change (int64[T]) per territory."""
    a = state.assign[u]
    deltas = np.zeros(model.n_territories)
    violations = np.zeros(model.n_territories, dtype=np.int64)
    for b in range(model.n_territories):
        if b != a:
            deltas[b] = relocate_delta(model, state, u, a, b)
            violations[b] = relocate_violation(model, state, u, a, b)
    return deltas, violations


@dataclass(frozen=True)
class _Context:
    """The plan loaded into the engine: model, state and the plan table."""

    encoding: Encoding
    model: Model
    state: State
    table: pd.DataFrame  # decode's plan table, accounts in encoding order, then unassigned

    @classmethod
    def load(cls, plan: AssignedPlan, built: Built | None) -> _Context:
        encoding = plan.encoding
        built = built if built is not None else build_model(encoding)
        account_territory = np.asarray(plan.account_territory, dtype=np.int32)
        unit_territory = unit_assignment(encoding, account_territory)
        state = recompute_state(built.model, unit_territory)
        table = decode(encoding, built, account_territory)
        return cls(encoding, built.model, state, table)


def unit_assignment(encoding: Encoding, account_territory: np.ndarray) -> np.ndarray:
    """Return the territory of each unit (int32[U]); every account of a unit must share it."""
    unit_territory = np.full(encoding.n_units, -1, dtype=np.int32)
    unit_territory[encoding.unit] = account_territory
    split = np.flatnonzero(unit_territory[encoding.unit] != account_territory)
    if len(split):
        ids = encoding.account_ids[split[:5]].tolist()
        raise InputError(
            f"accounts {ids} are in another territory than the rest of their hard group "
            f"({', '.join(encoding.hard_group_fields)}); a plan must keep each hard group in "
            "one territory"
        )
    unplaced = np.flatnonzero(account_territory < 0)
    if len(unplaced):
        ids = encoding.account_ids[unplaced[:5]].tolist()
        raise InputError(
            f"{len(unplaced)} accounts in scope have no territory, such as {ids}; give every "
            "account in scope a territory"
        )
    return unit_territory


def explain_all(plan: AssignedPlan, built: Built | None = None) -> pd.DataFrame:
    """Explain every account of the plan.

    Returns the plan table (account_id, territory, home_territory, moved, reason) with the
    columns alternative, alternative_cost, criterion (the one that would suffer most),
    alternative_text (the sentence on the alternative) and explanation (the reason, then
    that sentence), in the order of `Plan.assignment`. `built` saves rebuilding the model
    when the caller has it.
    """
    context = _Context.load(plan, built)
    encoding, model, state = context.encoding, context.model, context.state
    units = model.movable
    best, delta, changes = best_alternatives(model, state, units)

    unit_size = np.bincount(encoding.unit, minlength=encoding.n_units)
    sentences = Describer(encoding, model, state).alternatives(
        units, best, delta, changes, unit_size
    )
    n_units = encoding.n_units
    unit_alternative = np.full(n_units, "", dtype=object)
    unit_cost = np.full(n_units, np.nan)
    unit_criterion = np.full(n_units, "", dtype=object)
    unit_sentence = np.full(n_units, "", dtype=object)
    feasible = best >= 0
    territory_ids = np.array(encoding.territory_ids, dtype=object)
    unit_alternative[units[feasible]] = territory_ids[best[feasible]]
    unit_cost[units[feasible]] = delta[feasible]
    unit_sentence[units] = [sentence.text for sentence in sentences]
    unit_criterion[units] = [sentence.criterion for sentence in sentences]

    table = context.table.copy()
    n = encoding.n_accounts
    reasons = table["reason"].to_numpy(dtype=object)[:n]
    prefix = account_sentences(encoding, context.state.assign[encoding.unit], reasons, unit_size)
    suffix = unit_sentence[encoding.unit]
    text = np.array(
        [
            f"{first}. {second}" if second else f"{first}."
            for first, second in zip(prefix, suffix, strict=True)
        ],
        dtype=object,
    )
    extra = len(table) - n
    table["alternative"] = np.concatenate([unit_alternative[encoding.unit], [""] * extra])
    table["alternative_cost"] = np.concatenate([unit_cost[encoding.unit], [np.nan] * extra])
    table["criterion"] = np.concatenate([unit_criterion[encoding.unit], [""] * extra])
    table["alternative_text"] = np.concatenate([suffix, [""] * extra])
    table["explanation"] = np.concatenate([text, [unassigned_sentence(encoding)] * extra])
    return table


def with_explanations(plan: AssignedPlan, built: Built | None = None) -> pd.DataFrame:
    """Return the plan table with the columns alternative, alternative_cost and explanation."""
    return explain_all(plan, built)[PLAN_COLUMNS + EXPLANATION_COLUMNS]


def explain(plan: AssignedPlan, account_id: str, built: Built | None = None) -> Explanation:
    """Explain one account: the reason, the best alternative and every territory's cost."""
    context = _Context.load(plan, built)
    encoding, model, state = context.encoding, context.model, context.state
    account_id = str(account_id).strip()
    rows = np.flatnonzero(context.table["account_id"].to_numpy(dtype=object) == account_id)
    if len(rows) == 0:
        shown = ", ".join(str(value) for value in encoding.account_ids[:3])
        raise InputError(
            f"account {account_id!r} is not in the plan's scope; account ids look like "
            f"{shown}, and accounts outside [accounts].scope are not planned"
        )
    row = context.table.iloc[int(rows[0])]
    record = {
        "account_id": account_id,
        "territory": str(row["territory"]),
        "home_territory": str(row["home_territory"]),
        "reason": str(row["reason"]),
    }
    empty_changes = pd.DataFrame(
        columns=["priority", "criterion", "cost", "cost_after", "change", "weighted_change"]
    )
    empty_candidates = pd.DataFrame(
        columns=["territory", "name", "current", "feasible", "cost_change"]
    )
    if rows[0] >= encoding.n_accounts:
        return Explanation(
            **record,
            group_size=1,
            alternative="",
            alternative_cost=float("nan"),
            criterion="",
            text=unassigned_sentence(encoding) + ".",
            changes=empty_changes,
            candidates=empty_candidates,
        )

    account = int(rows[0])
    u = int(encoding.unit[account])
    unit_size = np.bincount(encoding.unit, minlength=encoding.n_units)
    group_size = int(unit_size[u])
    prefix = account_sentences(
        encoding,
        state.assign[encoding.unit[[account]]],
        np.array([record["reason"]], dtype=object),
        unit_size,
        rows=np.array([account]),
    )[0]
    if model.unit_pin[u] >= 0:
        return Explanation(
            **record,
            group_size=group_size,
            alternative="",
            alternative_cost=float("nan"),
            criterion="",
            text=prefix + ".",
            changes=empty_changes,
            candidates=empty_candidates,
        )

    best, delta, changes = best_alternatives(model, state, np.array([u], dtype=np.int32))
    b = int(best[0])
    sentence = Describer(encoding, model, state).alternatives(
        np.array([u]), best, delta, changes, unit_size
    )[0]
    return Explanation(
        **record,
        group_size=group_size,
        alternative=encoding.territory_ids[b] if b >= 0 else "",
        alternative_cost=float(delta[0]),
        criterion=sentence.criterion,
        text=f"{prefix}. {sentence.text}",
        changes=_criterion_changes(encoding, model, state, changes[0]) if b >= 0 else empty_changes,
        candidates=_candidates(encoding, model, state, u),
    )


def _criterion_changes(
    encoding: Encoding, model: Model, state: State, change: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "priority": [term.priority for term in encoding.terms],
            "criterion": [term.label for term in encoding.terms],
            "cost": state.costs,
            "cost_after": state.costs + change,
            "change": change,
            "weighted_change": model.weights * change,
        }
    )


def _candidates(encoding: Encoding, model: Model, state: State, u: int) -> pd.DataFrame:
    deltas, violations = territory_deltas(model, state, u)
    current = np.arange(model.n_territories) == state.assign[u]
    return pd.DataFrame(
        {
            "territory": encoding.territory_ids,
            "name": [territory.name for territory in encoding.spec.territories],
            "current": current,
            "feasible": ~current & (violations <= 0),
            "cost_change": np.where(current, np.nan, deltas),
        }
    )
