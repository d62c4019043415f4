"""The plan cost and hard constraints of a unit-level `Model` as solver-neutral linear pieces.

Both exact baselines build their model from a `Formulation`, so they share one reading of
the engine's cost (smartplan.engine.kernels):

- balance term b: weight * bal_scale * sum_t max(0, S_bt - hi_bt, lo_bt - S_bt), where
  S_bt is the sum of the term's unit values in territory t;
- keep entry (unit u, home h): weight * keep_scale * value when u is not in h;
- soft-group value g: weight * group_scale * (territories holding g - 1);
- limits: lo <= counted accounts <= hi in every territory (hard);
- pins: a pinned unit may only go to its territory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartplan.encode import NO_LIMIT
from smartplan.engine.model import Model


@dataclass(frozen=True)
class BalanceRows:
    """One balance term: territory sums of `values` against the band [lo, hi]."""

    values: np.ndarray  # float64[U], metric units
    lo: np.ndarray  # float64[T]
    hi: np.ndarray  # float64[T]
    total: float  # sum of values over all units
    weight: float  # weighted cost of one metric unit of deviation: weight * bal_scale


@dataclass(frozen=True)
class GroupSplits:
    """Soft-group values held by two or more units (one unit alone can never split)."""

    ptr: np.ndarray  # int64[G' + 1], CSR row pointers into `units`
    units: np.ndarray  # int64[F'], the units holding each value
    weight: np.ndarray  # float64[G'], weighted cost of one extra territory


@dataclass(frozen=True)
class LimitRows:
    """One limit: lo_t <= sum of counts of the member units in t <= hi_t."""

    units: np.ndarray  # int64[m]
    counts: np.ndarray  # int64[m]
    lo: np.ndarray  # int64[T], 0 where there is no minimum
    hi: np.ndarray  # int64[T], NO_LIMIT where there is no maximum


@dataclass(frozen=True)
class Formulation:
    """Linear pieces of one plan; U units, T territories."""

    n_units: int
    n_territories: int
    unit_pin: np.ndarray  # int32[U], pinned territory or -1
    balance: list[BalanceRows]
    keep_unit: np.ndarray  # int64[K'], one row per (unit, home) pair
    keep_home: np.ndarray  # int64[K']
    keep_weight: np.ndarray  # float64[K'], weighted cost when the unit leaves that home
    groups: GroupSplits
    limits: list[LimitRows]

    @property
    def constant(self) -> float:
        """Cost of the keep and group terms that no variable carries (see `cost`)."""
        return float(self.keep_weight.sum() - self.groups.weight.sum())

    def cost(self, assign: np.ndarray) -> float:
        """Weighted cost of `assign` (int[U] territory per unit), from the pieces alone."""
        assign = np.asarray(assign, dtype=np.int64)
        total = 0.0
        for rows in self.balance:
            sums = np.bincount(assign, weights=rows.values, minlength=self.n_territories)
            outside = np.maximum(np.maximum(sums - rows.hi, rows.lo - sums), 0.0)
            total += rows.weight * float(outside.sum())
        left = assign[self.keep_unit] != self.keep_home
        total += float(self.keep_weight[left].sum())
        for g in range(len(self.groups.weight)):
            members = self.groups.units[self.groups.ptr[g] : self.groups.ptr[g + 1]]
            present = len(np.unique(assign[members]))
            total += float(self.groups.weight[g]) * (present - 1)
        return total

    def violation(self, assign: np.ndarray) -> int:
        """Accounts by which `assign` breaks the limits and pins (0 when feasible)."""
        assign = np.asarray(assign, dtype=np.int64)
        broken = int(((self.unit_pin >= 0) & (assign != self.unit_pin)).sum())
        for rows in self.limits:
            counts = np.bincount(
                assign[rows.units], weights=rows.counts, minlength=self.n_territories
            )
            broken += int(np.maximum(counts - rows.hi, 0).sum())
            broken += int(np.maximum(rows.lo - counts, 0).sum())
        return broken


def formulate(model: Model) -> Formulation:
    """Read the cost terms and hard constraints of `model` (see the module docstring)."""
    n_units = int(model.unit_pin.shape[0])
    n_territories = int(model.n_territories)
    weights = model.weights

    balance = []
    for b in range(model.bal_values.shape[1]):
        weight = float(weights[model.bal_term[b]] * model.bal_scale[b])
        if weight <= 0.0:
            continue
        values = np.ascontiguousarray(model.bal_values[:, b], dtype=np.float64)
        balance.append(
            BalanceRows(
                values=values,
                lo=np.asarray(model.bal_lo[b], dtype=np.float64),
                hi=np.asarray(model.bal_hi[b], dtype=np.float64),
                total=float(values.sum()),
                weight=weight,
            )
        )

    entry_unit = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(model.keep_ptr))
    slot = model.keep_slot
    entry_weight = weights[model.keep_term[slot]] * model.keep_scale[slot] * model.keep_value
    keep_unit, keep_home, keep_weight = _sum_pairs(
        entry_unit, model.keep_home.astype(np.int64), entry_weight, n_territories
    )

    return Formulation(
        n_units=n_units,
        n_territories=n_territories,
        unit_pin=np.asarray(model.unit_pin, dtype=np.int32),
        balance=balance,
        keep_unit=keep_unit,
        keep_home=keep_home,
        keep_weight=keep_weight,
        groups=_group_splits(model, n_units),
        limits=_limit_rows(model, n_units),
    )


def _sum_pairs(
    units: np.ndarray, homes: np.ndarray, weight: np.ndarray, n_territories: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum `weight` over equal (unit, home) pairs, dropping pairs that cost nothing."""
    keys = units * n_territories + homes
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=weight, minlength=len(unique))
    keep = summed > 0
    unique = unique[keep]
    return unique // n_territories, unique % n_territories, summed[keep]


def _group_splits(model: Model, n_units: int) -> GroupSplits:
    entry_unit = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(model.group_ptr))
    values = model.group_value.astype(np.int64)
    order = np.lexsort((entry_unit, values))
    values = values[order]
    entry_unit = entry_unit[order]
    n_values = int(model.group_slot.shape[0])
    holders = np.bincount(values, minlength=n_values)
    slot = model.group_slot
    weight = model.weights[model.group_term[slot]] * model.group_scale[slot]
    splittable = (holders >= 2) & (weight > 0)
    chosen = splittable[values]
    counts = holders[splittable]
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return GroupSplits(
        ptr=ptr, units=entry_unit[chosen], weight=weight[splittable].astype(np.float64)
    )


def _limit_rows(model: Model, n_units: int) -> list[LimitRows]:
    entry_unit = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(model.limit_ptr))
    rows = []
    for lim in range(model.limit_min.shape[0]):
        mine = model.limit_id == lim
        units = entry_unit[mine]
        counts = model.limit_count[mine].astype(np.int64)
        lo = model.limit_min[lim].astype(np.int64)
        hi = model.limit_max[lim].astype(np.int64)
        total = int(counts.sum())
        hi = np.where(hi >= min(total, NO_LIMIT), NO_LIMIT, hi)
        if (lo <= 0).all() and (hi >= NO_LIMIT).all():
            continue
        rows.append(LimitRows(units=units, counts=counts, lo=lo, hi=hi))
    return rows
