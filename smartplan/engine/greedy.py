"""Greedy start: pins first, soft keeps at home where limits allow, then cheapest insertion.

Units that are not pinned or kept are inserted in decreasing order of weighted size. Each
goes to the territory where inserting it costs least (the exact weighted change of the
balance and soft-group terms, counting empty territories as far below target), with ties
broken by the smallest weighted fill relative to target. A territory whose maximum limit
the unit would exceed is skipped while another one has room.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from smartplan.engine.kernels import band_deviation
from smartplan.engine.model import Model
from smartplan.engine.rng import below, chain_streams

# Above this many territories each unit considers a sample of them, plus its home.
_CANDIDATES = 64


@njit(cache=True)
def _limit_excess(model: Model, limit_counts: np.ndarray, u: int, t: int) -> int:
    """Accounts by which placing unit `u` in territory `t` would exceed a maximum limit."""
    excess = 0
    for e in range(model.limit_ptr[u], model.limit_ptr[u + 1]):
        lim = model.limit_id[e]
        after = limit_counts[lim, t] + model.limit_count[e]
        over = after - model.limit_max[lim, t]
        if over > 0:
            excess += min(over, model.limit_count[e])
    return excess


@njit(cache=True)
def _min_shortfall_met(model: Model, limit_counts: np.ndarray, u: int, t: int) -> int:
    """Accounts of unit `u` that would count toward a minimum still unmet in `t`."""
    met = 0
    for e in range(model.limit_ptr[u], model.limit_ptr[u + 1]):
        lim = model.limit_id[e]
        missing = model.limit_min[lim, t] - limit_counts[lim, t]
        if missing > 0:
            met += min(missing, model.limit_count[e])
    return met


@njit(cache=True)
def _place(
    model: Model,
    u: int,
    t: int,
    assign: np.ndarray,
    bal_sums: np.ndarray,
    group_counts: np.ndarray,
    limit_counts: np.ndarray,
) -> None:
    assign[u] = t
    for c in range(model.bal_values.shape[1]):
        bal_sums[c, t] += model.bal_values[u, c]
    for e in range(model.group_ptr[u], model.group_ptr[u + 1]):
        group_counts[model.group_value[e], t] += model.group_count[e]
    for e in range(model.limit_ptr[u], model.limit_ptr[u + 1]):
        limit_counts[model.limit_id[e], t] += model.limit_count[e]


@njit(cache=True)
def _insertion_scores(
    model: Model,
    u: int,
    t: int,
    bal_sums: np.ndarray,
    group_counts: np.ndarray,
    unit_counts: np.ndarray,
    fill_target: np.ndarray,
) -> tuple[float, float]:
    """Exact insertion cost of unit `u` into `t`, and its relative-fill tie-breaker."""
    cost = 0.0
    fill = 1e-9 * (unit_counts[t] + 1.0) / fill_target[t]
    for c in range(model.bal_values.shape[1]):
        value = model.bal_values[u, c]
        if value == 0.0:
            continue
        lo = model.bal_lo[c, t]
        hi = model.bal_hi[c, t]
        before = bal_sums[c, t]
        weight = model.weights[model.bal_term[c]] * model.bal_scale[c]
        cost += weight * (band_deviation(before + value, lo, hi) - band_deviation(before, lo, hi))
        target = 0.5 * (lo + hi)
        if target > 0.0:
            fill += weight * value * (before + value) / target
        else:
            fill += weight * value * 1e6
    for e in range(model.group_ptr[u], model.group_ptr[u + 1]):
        g = model.group_value[e]
        if group_counts[g, t] == 0:
            slot = model.group_slot[g]
            cost += model.weights[model.group_term[slot]] * model.group_scale[slot]
    return cost, fill


@njit(cache=True, inline="always")
def _better(
    excess: int,
    unmet: int,
    cost: float,
    fill: float,
    best_excess: int,
    best_unmet: int,
    best_cost: float,
    best_fill: float,
) -> bool:
    """Order candidates by fewest excess accounts, most unmet minimums, cost, fill."""
    if excess != best_excess:
        return excess < best_excess
    if unmet != best_unmet:
        return unmet > best_unmet
    if abs(cost - best_cost) > 1e-12 * (abs(cost) + abs(best_cost)):
        return cost < best_cost
    return fill < best_fill


@njit(cache=True)
def greedy_assign(
    model: Model,
    order: np.ndarray,
    preferred: np.ndarray,
    fill_target: np.ndarray,
    rng: np.ndarray,
) -> np.ndarray:
    """Return int32[U] territories: pins, then `preferred` homes, then insertion by `order`."""
    n_units = model.unit_pin.shape[0]
    n_territories = model.n_territories
    assign = np.full(n_units, -1, dtype=np.int32)
    bal_sums = np.zeros((model.bal_values.shape[1], n_territories))
    group_counts = np.zeros((model.group_slot.shape[0], n_territories), dtype=np.int32)
    limit_counts = np.zeros((model.limit_min.shape[0], n_territories), dtype=np.int32)
    unit_counts = np.zeros(n_territories)

    for u in range(n_units):
        if model.unit_pin[u] >= 0:
            _place(model, u, model.unit_pin[u], assign, bal_sums, group_counts, limit_counts)
            unit_counts[model.unit_pin[u]] += 1
    for i in range(order.shape[0]):
        u = order[i]
        home = preferred[u]
        if assign[u] < 0 and home >= 0 and _limit_excess(model, limit_counts, u, home) == 0:
            _place(model, u, home, assign, bal_sums, group_counts, limit_counts)
            unit_counts[home] += 1

    sample = np.empty(min(_CANDIDATES, n_territories), dtype=np.int64)
    for i in range(order.shape[0]):
        u = order[i]
        if assign[u] >= 0:
            continue
        if n_territories <= _CANDIDATES:
            for k in range(n_territories):
                sample[k] = k
        else:
            for k in range(sample.shape[0]):
                sample[k] = below(rng, n_territories)
        best_t = -1
        best_excess = 1 << 40
        best_unmet = 0
        best_cost = np.inf
        best_fill = np.inf
        for k in range(sample.shape[0]):
            t = sample[k]
            excess = _limit_excess(model, limit_counts, u, t)
            unmet = _min_shortfall_met(model, limit_counts, u, t)
            cost, fill = _insertion_scores(
                model, u, t, bal_sums, group_counts, unit_counts, fill_target
            )
            if _better(excess, unmet, cost, fill, best_excess, best_unmet, best_cost, best_fill):
                best_excess = excess
                best_unmet = unmet
                best_cost = cost
                best_fill = fill
                best_t = t
        _place(model, u, best_t, assign, bal_sums, group_counts, limit_counts)
        unit_counts[best_t] += 1
    return assign


def greedy_start(
    model: Model, preferred: np.ndarray, capacity: np.ndarray, seed: int
) -> np.ndarray:
    """Return a greedy plan as int32[U] territories.

    `preferred` is int32[U], the home territory a soft keep asks for, or -1. `capacity` is
    float64[T], the relative size of each territory.
    """
    weights = model.weights[model.bal_term] * model.bal_scale
    size = model.bal_values @ weights if model.bal_values.shape[1] else np.zeros(len(preferred))
    # Stable sort keeps input order among equal sizes, so the start is reproducible.
    order = np.argsort(-size, kind="stable").astype(np.int64)
    fill_target = capacity / capacity.sum() * max(len(preferred), 1)
    rng = chain_streams(seed, 1)[0]
    return greedy_assign(model, order, preferred.astype(np.int32), fill_target, rng)
