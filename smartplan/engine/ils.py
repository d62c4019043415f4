"""Iterated local search: kick the plan, repair it by steepest descent, keep it if no worse.

A kick returns a few moved units to their home territory and often relocates one large
unit to its best territory on flat weights. The repair then runs steepest descent twice.
The first pass uses flat weights, where every term weighs as much as the lowest-priority
one, so it closes band gaps with few large units. The second pass uses the true weights, so
the plan ends at a local optimum of the lexicographic cost. The chain keeps the result when
its term costs are no worse in priority order, or with the Metropolis probability of its
weighted cost rise. Otherwise it undoes every relocation of the iteration. Annealing cannot
make these trades once every band is met: returning one unit home breaks a band that weighs
far more than the unit saves.

Each scan costs units x territories move evaluations, so the search runs this phase only on
models where a scan is cheap (see `smartplan.engine.search`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from smartplan.engine.anneal import ACCEPTED_RELOCATE, EVALUATED, ILS_ACCEPTED, ILS_ITERATIONS
from smartplan.engine.compare import lexicographic_less
from smartplan.engine.kernels import (
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_violation,
    with_weights,
)
from smartplan.engine.model import Model, State
from smartplan.engine.rng import below, uniform
from smartplan.engine.steepest import logged_relocate, steepest_descent

# Tries to draw a moved unit before a kick gives up looking.
DRAWS = 64


def size_cdf(model: Model) -> np.ndarray:
    """Cumulative size of the movable units: the sum of their balance values over totals.

    A kick draws the unit it relocates in proportion to its size, so large units, which
    close the largest band gaps, are tried most often.
    """
    size = (model.bal_values[model.movable] * model.bal_scale).sum(axis=1)
    size = size + (1e-12 if size.sum() <= 0 else size.sum() * 1e-3 / max(len(size), 1))
    return np.cumsum(size)


def log_size(n_units: int) -> int:
    """Room the undo log needs: a kick plus two capped descents of up to 2 entries a step."""
    return 2 * DRAWS + 1 + 4 * max_steps(n_units)


def max_steps(n_units: int) -> int:
    """Most steps (relocations or home swaps) one repair descent applies."""
    return 16 + n_units


@njit(cache=True)
def ils_chain(
    model: Model,
    flat: np.ndarray,
    preferred: np.ndarray,
    size_cdf: np.ndarray,
    reach_flat: np.ndarray,
    reach: np.ndarray,
    signed: bool,
    state: State,
    rng: np.ndarray,
    n_moves: int,
    temperature: float,
    steps: int,
    before: np.ndarray,
    log_unit: np.ndarray,
    log_from: np.ndarray,
    best_assign: np.ndarray,
    best_costs: np.ndarray,
    counters: np.ndarray,
    tuning: tuple[int, float, float],
) -> None:
    """Iterate kicks and repairs until `n_moves` more move evaluations are counted.

    `flat` is the flat weights and `preferred` the home territory of each unit (-1 for
    none); `reach_flat`, `reach` and `signed` go to `steepest_descent`. `before` is
    scratch room for term costs. `best_assign` and `best_costs` are the best plan with no
    limit violation, kept from call to call. `tuning` is the most units a kick returns home,
    the share of kicks that relocate a large unit, and the share of repairs that start with
    a pass on flat weights.
    """
    movable = model.movable
    n_movable = movable.shape[0]
    n_territories = model.n_territories
    if n_movable == 0 or n_territories < 2 or n_moves <= 0:
        return
    guided = with_weights(model, flat)
    stop = counters[EVALUATED] + n_moves
    while counters[EVALUATED] < stop:
        counters[ILS_ITERATIONS] += 1
        # Every iteration counts, so the loop ends even where no move is possible.
        counters[EVALUATED] += 1
        before[:] = state.costs
        violation_before = state.violation[0]
        n_log = _kick(
            model,
            guided,
            preferred,
            size_cdf,
            state,
            rng,
            log_unit,
            log_from,
            tuning[0],
            tuning[1],
            counters,
        )
        # The descents stop once the chunk's evaluations are spent, so an iteration cannot
        # run far past its chunk. The acceptance test below works on a partial repair too.
        if uniform(rng) < tuning[2]:
            n_log = steepest_descent(
                guided,
                state,
                steps,
                log_unit,
                log_from,
                n_log,
                counters,
                reach_flat,
                signed,
                preferred,
                stop,
            )
        n_log = steepest_descent(
            model, state, steps, log_unit, log_from, n_log, counters, reach, signed, preferred, stop
        )
        worse = state.violation[0] > violation_before or (
            state.violation[0] == violation_before and lexicographic_less(before, state.costs)
        )
        if worse and state.violation[0] == violation_before and temperature > 0.0:
            rise = 0.0
            for c in range(model.weights.shape[0]):
                rise += model.weights[c] * (state.costs[c] - before[c])
            worse = not (rise > 0.0 and uniform(rng) < math.exp(-rise / temperature))
        if worse:
            for k in range(n_log - 1, -1, -1):
                u = log_unit[k]
                relocate_apply(model, state, u, state.assign[u], log_from[k])
            continue
        counters[ACCEPTED_RELOCATE] += n_log
        counters[ILS_ACCEPTED] += 1
        if state.violation[0] == 0 and lexicographic_less(state.costs, best_costs):
            best_assign[:] = state.assign
            best_costs[:] = state.costs


@njit(cache=True, inline="always")
def _kick(
    model: Model,
    guided: Model,
    preferred: np.ndarray,
    size_cdf: np.ndarray,
    state: State,
    rng: np.ndarray,
    log_unit: np.ndarray,
    log_from: np.ndarray,
    kick_home: int,
    kick_random: float,
    counters: np.ndarray,
) -> int:
    """Return up to `kick_home` moved units home and maybe relocate a large one.

    Every relocation goes to the undo log; the function returns the log length.
    """
    movable = model.movable
    n_movable = movable.shape[0]
    n_log = 0
    count = 1 + below(rng, kick_home)
    returned = 0
    for _ in range(DRAWS):
        if returned == count:
            break
        counters[EVALUATED] += 1
        u = movable[below(rng, n_movable)]
        home = preferred[u]
        a = state.assign[u]
        if home < 0 or home == a:
            continue
        v = -1
        if relocate_violation(model, state, u, a, home) > 0:
            # A limit blocks the way home: swap with a unit of the home territory instead.
            v = movable[below(rng, n_movable)]
            if state.assign[v] != home or swap_violation(model, state, u, v) > 0:
                continue
        # The applies follow the choice, as in `steepest_descent`.
        n_log = logged_relocate(model, state, u, home, log_unit, log_from, n_log)
        if v >= 0:
            n_log = logged_relocate(model, state, v, a, log_unit, log_from, n_log)
        returned += 1
    if uniform(rng) < kick_random:
        i = np.searchsorted(size_cdf, uniform(rng) * size_cdf[n_movable - 1], side="right")
        u = movable[min(i, n_movable - 1)]
        a = state.assign[u]
        best_b = -1
        best_delta = math.inf
        counters[EVALUATED] += model.n_territories - 1
        for b in range(model.n_territories):
            if b == a or relocate_violation(guided, state, u, a, b) > 0:
                continue
            delta = relocate_delta(guided, state, u, a, b)
            if delta < best_delta:
                best_b = b
                best_delta = delta
        if best_b >= 0:
            n_log = logged_relocate(model, state, u, best_b, log_unit, log_from, n_log)
    return n_log


@njit(cache=True, parallel=True)
def ils_chains(
    model: Model,
    assign: np.ndarray,
    bal_sums: np.ndarray,
    group_counts: np.ndarray,
    limit_counts: np.ndarray,
    costs: np.ndarray,
    violation: np.ndarray,
    rngs: np.ndarray,
    n_moves: int,
    temperature: np.ndarray,
    flat: np.ndarray,
    preferred: np.ndarray,
    size_cdf: np.ndarray,
    reach_flat: np.ndarray,
    reach: np.ndarray,
    signed: bool,
    steps: int,
    before: np.ndarray,
    log_unit: np.ndarray,
    log_from: np.ndarray,
    best_assign: np.ndarray,
    best_costs: np.ndarray,
    counters: np.ndarray,
    tuning: tuple[int, float, float],
) -> None:
    """Run `ils_chain` on every chain in parallel; per-chain arrays have the chain first."""
    for chain in prange(assign.shape[0]):
        state = State(
            assign[chain],
            bal_sums[chain],
            group_counts[chain],
            limit_counts[chain],
            costs[chain],
            violation[chain],
        )
        ils_chain(
            model,
            flat,
            preferred,
            size_cdf,
            reach_flat,
            reach,
            signed,
            state,
            rngs[chain],
            n_moves,
            temperature[chain],
            steps,
            before[chain],
            log_unit[chain],
            log_from[chain],
            best_assign[chain],
            best_costs[chain],
            counters[chain],
            tuning,
        )
