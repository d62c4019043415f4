"""Steepest descent: apply the best relocation of all units and territories, repeatedly.

Each step scans the movable units and the other territories, O(units x territories
x criteria), and applies the relocation with the lowest delta. Where annealing takes any
improving move, this takes the best one, so when it repairs bands it moves the few units
that close the largest gaps rather than many small ones.

When no relocation improves, the step scans home swaps: a unit away from home goes back
and a unit of its home territory takes its place. This trades, for example, a corporate
family of six accounts for one of five with about the same ARR, which no single relocation
can do without breaking a band. The descent ends when neither improves. A home-swap scan
is skipped where it would pair far more units than a relocation scan tries
(SWAP_SCAN_LIMIT).

A scan skips the relocations that cannot improve, so it finds the same best relocation as
a scan of all of them for fewer evaluations. With balance values of one sign, a relocation
from a to b lowers a band term only when a lies above a band or b below one; a unit at home
with no soft groups, in a territory within its bands or below them, is therefore tried only
on the territories below a band. With values of both signs, a territory outside a band on
either side counts as both.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from smartplan.engine.anneal import EVALUATED
from smartplan.engine.kernels import (
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_delta,
    swap_violation,
)
from smartplan.engine.model import Model, State

# A relocation improves when its delta is below this; smaller values are rounding noise.
IMPROVEMENT = -1e-12
# A home-swap scan runs only when it pairs at most this many times as many units as a
# relocation scan tries (units x other territories). Its cost grows with the square of the
# units per territory. With 20,000 accounts on 2 territories and 10% away from home, one
# scan made 20 million pairs where a relocation scan tries 20,000 moves.
SWAP_SCAN_LIMIT = 2


@njit(cache=True)
def steepest_descent(
    model: Model,
    state: State,
    max_steps: int,
    log_unit: np.ndarray,
    log_from: np.ndarray,
    log_n: int,
    counters: np.ndarray,
    reach: np.ndarray,
    signed: bool,
    preferred: np.ndarray,
    max_evaluated: int,
) -> int:
    """Apply the best relocation, scan after scan, until none improves.

    The descent also stops after `max_steps` relocations, or before a scan once the move
    evaluations counted in `counters` reach `max_evaluated`.

    `reach[i]` bounds the cost decrease of any relocation of movable unit i, keep terms
    aside (see `relocation_reach`). A unit at home whose keep terms would cost more than
    that when it leaves cannot improve, so its moves are not evaluated. `signed` is true
    when some balance value is negative (see `has_negative_values`). `preferred` is the
    home territory of each unit (-1 for none), for the home swaps.

    A relocation that would raise the limit violation is never taken; one that lowers it
    is preferred to any other. Each applied relocation (two per swap) is appended to
    `log_unit` and `log_from` from position `log_n`, so a caller can undo it; the new log
    length is returned. The logs need room for 2 x `max_steps` more entries.
    """
    movable = model.movable
    n_territories = model.n_territories
    above = np.zeros(n_territories, dtype=np.bool_)
    below = np.zeros(n_territories, dtype=np.int64)
    by_territory = np.empty(movable.shape[0], dtype=np.int32)
    first = np.zeros(n_territories + 1, dtype=np.int64)
    for _ in range(max_steps):
        if counters[EVALUATED] >= max_evaluated:
            break
        best_u = -1
        best_b = -1
        best_delta = IMPROVEMENT
        best_violation = 0
        evaluated = 0
        n_below = _mark_gaps(model, state, signed, above, below)
        for i in range(movable.shape[0]):
            u = movable[i]
            a = state.assign[u]
            leaving = _leaving_cost(model, u, a)
            if state.violation[0] == 0 and leaving >= reach[i]:
                # The bound test counts as one evaluation, so every scan counts.
                evaluated += 1
                continue
            # A unit away from home (leaving cost -inf), with soft groups (reach inf), in a
            # territory above a band, or under a limit violation may gain on any target.
            every = (
                state.violation[0] > 0 or above[a] or leaving == -math.inf or reach[i] == math.inf
            )
            n_targets = n_territories if every else n_below
            evaluated += max(n_targets - 1 if every else n_targets, 1)
            for k in range(n_targets):
                b = k if every else below[k]
                if b == a:
                    continue
                violation = relocate_violation(model, state, u, a, b)
                if violation > best_violation:
                    continue
                delta = relocate_delta(model, state, u, a, b)
                if violation < best_violation or delta < best_delta:
                    best_u = u
                    best_b = b
                    best_delta = delta
                    best_violation = violation
        counters[EVALUATED] += evaluated
        # The step relocates best_u to best_b, then, for a home swap, v to where u was.
        # With the applies on separate branches instead, numba kept reference-count
        # operations of the inlined arguments in the loop (tests/test_compiled.py).
        v = -1
        if best_u < 0:
            if counters[EVALUATED] >= max_evaluated:
                break
            best_u, v = _best_home_swap(model, state, preferred, by_territory, first, counters)
            if best_u < 0:
                break
            best_b = preferred[best_u]
        a = state.assign[best_u]
        log_n = logged_relocate(model, state, best_u, best_b, log_unit, log_from, log_n)
        if v >= 0:
            log_n = logged_relocate(model, state, v, a, log_unit, log_from, log_n)
    return log_n


@njit(cache=True)
def _best_home_swap(
    model: Model,
    state: State,
    preferred: np.ndarray,
    by_territory: np.ndarray,
    first: np.ndarray,
    counters: np.ndarray,
) -> tuple[int, int]:
    """Return the best improving home swap (u, v), or (-1, -1) if none improves.

    u is a unit away from its home h, and v is a unit in h. After the swap u is home and v
    is where u was. The scan is skipped, with (-1, -1) returned, when it would pair more
    than SWAP_SCAN_LIMIT times the units of a relocation scan. Swaps rank like
    relocations: least limit violation, then least delta. `by_territory` and `first` are
    scratch room for the movable units sorted by territory.
    """
    movable = model.movable
    n_movable = movable.shape[0]
    n_territories = model.n_territories
    first[:] = 0
    for i in range(n_movable):
        first[state.assign[movable[i]] + 1] += 1
    for t in range(n_territories):
        first[t + 1] += first[t]
    for i in range(n_movable):
        t = state.assign[movable[i]]
        by_territory[first[t]] = movable[i]
        first[t] += 1
    # Each first[t] now points at the end of territory t's run: shift back to its start.
    for t in range(n_territories, 0, -1):
        first[t] = first[t - 1]
    first[0] = 0
    best_u = -1
    best_v = -1
    pairs = 0
    for i in range(n_movable):
        home = preferred[movable[i]]
        if home >= 0 and home != state.assign[movable[i]]:
            pairs += first[home + 1] - first[home]
    if pairs > SWAP_SCAN_LIMIT * n_movable * max(n_territories - 1, 1):
        counters[EVALUATED] += 1
        return best_u, best_v
    best_delta = IMPROVEMENT
    best_violation = 0
    evaluated = 0
    for i in range(n_movable):
        u = movable[i]
        home = preferred[u]
        if home < 0 or home == state.assign[u]:
            continue
        evaluated += first[home + 1] - first[home]
        for k in range(first[home], first[home + 1]):
            v = by_territory[k]
            violation = swap_violation(model, state, u, v)
            if violation > best_violation:
                continue
            delta = swap_delta(model, state, u, v)
            if violation < best_violation or delta < best_delta:
                best_u = u
                best_v = v
                best_delta = delta
                best_violation = violation
    # The scan of the units away from home counts as one evaluation, so every scan counts.
    counters[EVALUATED] += evaluated + 1
    return best_u, best_v


@njit(cache=True)
def _mark_gaps(
    model: Model, state: State, signed: bool, above: np.ndarray, below: np.ndarray
) -> int:
    """Flag the territories above a band in `above`, list those below one in `below`.

    Only balance terms with a positive weight count. With `signed` values a territory
    outside a band on either side is flagged and listed. Returns the length of the list.
    """
    n_below = 0
    for t in range(model.n_territories):
        high = False
        low = False
        for c in range(model.bal_values.shape[1]):
            if model.weights[model.bal_term[c]] > 0.0:
                total = state.bal_sums[c, t]
                high |= total > model.bal_hi[c, t]
                low |= total < model.bal_lo[c, t]
        if signed:
            high |= low
            low = high
        above[t] = high
        if low:
            below[n_below] = t
            n_below += 1
    return n_below


def has_negative_values(model: Model) -> bool:
    """Return whether some movable unit has a negative balance value."""
    return bool((model.bal_values[model.movable] < 0.0).any())


@njit(cache=True, inline="always")
def logged_relocate(
    model: Model,
    state: State,
    u: int,
    b: int,
    log_unit: np.ndarray,
    log_from: np.ndarray,
    n_log: int,
) -> int:
    """Move unit `u` to territory `b`, append the move to the undo log, return its length."""
    log_unit[n_log] = u
    log_from[n_log] = state.assign[u]
    relocate_apply(model, state, u, state.assign[u], b)
    return n_log + 1


@njit(cache=True, inline="always")
def _leaving_cost(model: Model, u: int, a: int) -> float:
    """Weighted keep cost unit `u` adds when it leaves territory `a`.

    It is -inf unless `a` is the home of every keep entry of the unit: otherwise a move to
    another home could lower a keep term.
    """
    cost = 0.0
    for e in range(model.keep_ptr[u], model.keep_ptr[u + 1]):
        if model.keep_home[e] != a:
            return -math.inf
        slot = model.keep_slot[e]
        weight = model.weights[model.keep_term[slot]]
        cost += weight * model.keep_value[e] * model.keep_scale[slot]
    return cost


def relocation_reach(model: Model) -> np.ndarray:
    """Per movable unit, a bound on the cost decrease of any relocation, keep terms aside.

    Moving a value v from one territory to another lowers each band deviation by at most v
    in each of the two territories. A unit with soft-group entries gets no bound (inf).
    """
    movable = model.movable
    weights = model.weights[model.bal_term] * model.bal_scale
    reach = 2.0 * np.abs(model.bal_values[movable]) @ weights
    grouped = np.diff(model.group_ptr)[movable] > 0
    reach[grouped] = np.inf
    # A relative margin so that rounding never skips a unit whose move would improve.
    return reach * (1.0 + 1e-9) + 1e-15
