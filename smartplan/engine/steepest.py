"""Steepest descent: apply the best relocation of all units and territories, repeatedly.

Each step scans the movable units and the other territories, O(units x territories
x criteria), and applies the relocation with the lowest delta, until none improves. Where
annealing takes any improving move, this takes the best one, so when it repairs bands it
moves the few units that close the largest gaps rather than many small ones.

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
from smartplan.engine.kernels import relocate_apply, relocate_delta, relocate_violation
from smartplan.engine.model import Model, State

# A relocation improves when its delta is below this; smaller values are rounding noise.
IMPROVEMENT = -1e-12


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
    max_evaluated: int,
) -> int:
    """Apply the best relocation, scan after scan, until none improves.

    The descent also stops after `max_steps` relocations, or before a scan once the move
    evaluations counted in `counters` reach `max_evaluated`.

    `reach[i]` bounds the cost decrease of any relocation of movable unit i, keep terms
    aside (see `relocation_reach`). A unit at home whose keep terms would cost more than
    that when it leaves cannot improve, so its moves are not evaluated. `signed` says
    that some balance value is negative (see `has_negative_values`).

    A relocation that would raise the limit violation is never taken; one that lowers it
    is preferred to any other. Each applied relocation is appended to `log_unit` and
    `log_from` from position `log_n`, so a caller can undo it; the new log length is
    returned. The logs need room for `max_steps` more entries.
    """
    movable = model.movable
    n_territories = model.n_territories
    above = np.zeros(n_territories, dtype=np.bool_)
    below = np.zeros(n_territories, dtype=np.int64)
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
        if best_u < 0:
            break
        log_n = logged_relocate(model, state, best_u, best_b, log_unit, log_from, log_n)
    return log_n


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
    """Whether some movable unit has a negative balance value."""
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
