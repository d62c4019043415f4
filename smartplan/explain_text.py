"""The sentences of an explanation: why an account is where it is, and its best alternative."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartplan.encode import CostTerm, Encoding
from smartplan.engine.model import Model, State


@dataclass(frozen=True)
class Sentence:
    """The alternative part of an explanation and the criterion it names ("" for none)."""

    text: str
    criterion: str


def account_sentences(
    encoding: Encoding,
    territory: np.ndarray,
    reasons: np.ndarray,
    unit_size: np.ndarray,
    rows: np.ndarray | None = None,
) -> list[str]:
    """Say why each account is in its territory, without a final full stop.

    `territory` (int[R]) and `reasons` (object[R]) belong to the accounts at `rows` of the
    encoding, or to all accounts when `rows` is None. `unit_size` (int[U]) is the number of
    accounts in each unit.
    """
    if rows is None:
        rows = np.arange(encoding.n_accounts)
    ids = encoding.territory_ids
    groups = ", ".join(encoding.hard_group_fields)
    sentences = []
    for t, reason, home, pin_reason, size in zip(
        np.asarray(territory).tolist(),
        reasons.tolist(),
        encoding.home[rows].tolist(),
        encoding.pin_reason[rows].tolist(),
        unit_size[encoding.unit[rows]].tolist(),
        strict=True,
    ):
        place = ids[t]
        if reason == "pinned":
            sentences.append(f"pinned to {place} by the pin column {encoding.spec.pin}")
        elif reason == "kept" and pin_reason == "kept":
            sentences.append(f"kept in its home territory {place} by a hard keep")
        elif reason == "kept":
            sentences.append(f"kept in its home territory {place}")
        elif reason == "grouped":
            text = f"placed in {place} with its group of {size} accounts ({groups})"
            if home >= 0 and home != t:
                text += f", moved from {ids[home]}"
            elif home == t:
                text += ", its home territory"
            sentences.append(text)
        elif home >= 0 and home != t:
            sentences.append(f"moved from {ids[home]} to {place} by the optimizer")
        else:
            sentences.append(f"placed in {place} by the optimizer (no home territory)")
    return sentences


def unassigned_sentence(encoding: Encoding) -> str:
    return (
        "not assigned: no balance criterion counts it, and the spec sets "
        f'unmatched = "{encoding.spec.unmatched}"'
    )


class Describer:
    """Words for the best alternatives of units, from the engine state of the plan."""

    def __init__(self, encoding: Encoding, model: Model, state: State) -> None:
        self.encoding = encoding
        self.model = model
        self.state = state
        totals = encoding.bal_values.sum(axis=0)
        self.targets = encoding.bal_share * totals[:, None]  # float64[B, T]
        n_terms = len(encoding.terms)
        self.balance_column = np.full(n_terms, -1, dtype=np.int64)
        self.balance_column[encoding.bal_term] = np.arange(len(encoding.bal_term))
        self.where = [_criterion_words(term) for term in encoding.terms]
        self._shares: dict[tuple[int, float], str] = {}

    def alternatives(
        self,
        units: np.ndarray,
        best: np.ndarray,
        delta: np.ndarray,
        changes: np.ndarray,
        unit_size: np.ndarray,
    ) -> list[Sentence]:
        """Describe moving each unit in `units` (int[M]) to its territory in `best`.

        `best` is int[M] (-1: no territory is feasible), `delta` float64[M] the weighted
        cost delta of each move, `changes` float64[M, C] the unweighted change of each cost
        term and `unit_size` int[U] the accounts per unit.
        """
        weighted = changes * self.model.weights
        rows = np.arange(len(units))
        if weighted.size:
            worst, least = weighted.argmax(axis=1), weighted.argmin(axis=1)
        else:
            worst = least = np.zeros(len(units), dtype=np.int64)
        balance = self._balance_words(units, best, worst)
        ids = self.encoding.territory_ids
        terms = self.encoding.terms
        sentences = []
        # Plain Python lists: indexing numpy arrays element by element is far slower.
        for i, (u, b, cost, rise, fall, k, gain) in enumerate(
            zip(
                units.tolist(),
                best.tolist(),
                delta.tolist(),
                weighted[rows, worst].tolist(),
                weighted[rows, least].tolist(),
                worst.tolist(),
                least.tolist(),
                strict=True,
            )
        ):
            size = int(unit_size[u])
            subject = "it" if size == 1 else f"the group of {size}"
            if self.model.n_territories == 1:
                sentences.append(Sentence("The plan has no other territory", ""))
            elif b < 0:
                text = (
                    f"No other territory can take {subject} without breaking a hard limit "
                    f"({self._limit_labels(u)})"
                )
                sentences.append(Sentence(text, ""))
            elif cost < 0 and fall < 0:
                text = (
                    f"Moving {subject} to {ids[b]} would lower the plan cost by {-cost:.4g}, "
                    f"most of it on {terms[gain].label} (priority {terms[gain].priority}); the "
                    "search stopped before this move, so a larger move budget may find a "
                    "better plan"
                )
                sentences.append(Sentence(text, ""))
            elif rise <= 0:
                text = f"{ids[b]} is as good: moving {subject} there leaves the plan cost unchanged"
                sentences.append(Sentence(text, ""))
            else:
                detail = balance[i] or self._other_detail(k, float(changes[i, k]))
                text = (
                    f"Best alternative {ids[b]} (plan cost {cost:+.4g}): moving {subject} there "
                    f"{detail}"
                )
                sentences.append(Sentence(text, terms[k].label))
        return sentences

    def _balance_words(self, units: np.ndarray, best: np.ndarray, worst: np.ndarray) -> list[str]:
        """Name the territory whose band deviation grows most, and its deviation after the move.

        Only units whose worst term is a balance term get words. The others get "".
        """
        model, state = self.model, self.state
        columns = self.balance_column[worst] if len(units) else np.zeros(0, np.int64)
        rows = np.flatnonzero((columns >= 0) & (best >= 0))
        words = [""] * len(units)
        if len(rows) == 0:
            return words

        # Growth of the distance outside the band in the giving (a) and receiving (b) territory.
        c = columns[rows]
        u = units[rows]
        a = state.assign[u].astype(np.int64)
        b = best[rows].astype(np.int64)
        value = model.bal_values[u, c]
        sum_a, sum_b = state.bal_sums[c, a], state.bal_sums[c, b]
        lo_a, hi_a = model.bal_lo[c, a], model.bal_hi[c, a]
        lo_b, hi_b = model.bal_lo[c, b], model.bal_hi[c, b]
        growth_a = _outside(sum_a - value, lo_a, hi_a) - _outside(sum_a, lo_a, hi_a)
        growth_b = _outside(sum_b + value, lo_b, hi_b) - _outside(sum_b, lo_b, hi_b)

        # The territory that loses more balance, its sum after the move and its deviation.
        receiving = growth_b >= growth_a
        territory = np.where(receiving, b, a)
        after = np.where(receiving, sum_b + value, sum_a - value)
        target = self.targets[c, territory]
        relative = np.divide(after - target, target, out=np.zeros(len(rows)), where=target > 0)

        ids = self.encoding.territory_ids
        for row, k, is_receiving, t, total, goal, share in zip(
            rows, worst[rows], receiving, territory, after, target, relative, strict=True
        ):
            verb = "puts" if is_receiving else "leaves"
            where = self.where[int(k)]
            if goal <= 0:
                words[row] = f"{verb} {ids[t]} at {total:,.4g} against a target of 0 on {where}"
            else:
                side = "above" if share >= 0 else "below"
                words[row] = f"{verb} {ids[t]} {abs(share):.1%} {side} its target on {where}"
        return words

    def _other_detail(self, k: int, change: float) -> str:
        """Words for a keep, soft-group or other term whose cost rises by `change`."""
        term = self.encoding.terms[k]
        key = (k, change)
        if key not in self._shares:
            before = float(self.state.costs[k])
            self._shares[key] = _two_shares(before, before + change)
        shares = self._shares[key]
        if term.kind == "keep":
            return f"raises the moved share on {self.where[k]} {shares}"
        if term.kind == "group":
            return f"raises the split share on {self.where[k]} {shares}"
        return f"raises the cost of {self.where[k]} by {change:.4g}"

    def _limit_labels(self, u: int) -> str:
        start, end = self.model.limit_ptr[u], self.model.limit_ptr[u + 1]
        labels = dict.fromkeys(
            self.encoding.limits[int(lim)].label for lim in self.model.limit_id[start:end]
        )
        return ", ".join(labels) or "none applies"


def _criterion_words(term: CostTerm) -> str:
    """Write the criterion's label with its priority, and its tolerance for a balance term."""
    if term.kind not in ("balance", "weight"):
        return f"{term.label} (priority {term.priority})"
    tolerance = f"tolerance ±{100 * term.tolerance:g}%" if term.tolerance > 0 else "no tolerance"
    return f"{term.label} (priority {term.priority}, {tolerance})"


def _outside(total: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Distance of each total outside its tolerance band [lo, hi]."""
    return np.maximum(np.maximum(total - hi, lo - total), 0.0)


def _two_shares(before: float, after: float) -> str:
    """Write 'from x% to y%' with enough decimals (up to 4) to tell the two apart."""
    for decimals in range(1, 5):
        first = f"{100 * before:.{decimals}f}%"
        second = f"{100 * after:.{decimals}f}%"
        if first != second:
            break
    return f"from {first} to {second}"
