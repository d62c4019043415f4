"""Compiled simulated annealing over relocate and swap moves.

A move that would raise the total limit violation is rejected, so a feasible plan stays
feasible; a move that lowers it is always accepted, so an infeasible greedy start is
repaired. Otherwise a move is accepted with the Metropolis rule, exp(-delta / temperature),
under geometric cooling from `t_start` to `t_end`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from smartplan.engine.kernels import (
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_delta,
    swap_violation,
)
from smartplan.engine.model import Model, State
from smartplan.engine.rng import below, uniform

# Indices into the per-chain counters array.
EVALUATED = 0
ACCEPTED_RELOCATE = 1
ACCEPTED_SWAP = 2
ILS_ITERATIONS = 3  # iterated local search: kicks tried
ILS_ACCEPTED = 4  # and kept
# Counters are padded to 8 int64 (64 bytes) per chain to avoid false sharing.
N_COUNTERS = 8
# An uphill move larger than this many temperatures is rejected without drawing a number
# (its acceptance probability, exp(-40), is about 4e-18).
_REJECT_RATIO = 40.0


@njit(cache=True)
def anneal_chain(
    model: Model,
    state: State,
    rng: np.ndarray,
    n_moves: int,
    t_start: float,
    t_end: float,
    swap_share: float,
    counters: np.ndarray,
) -> None:
    """Run `n_moves` annealing moves on one chain's `state`, in place."""
    movable = model.movable
    n_movable = movable.shape[0]
    n_territories = model.n_territories
    if n_movable == 0 or n_territories < 2 or n_moves <= 0:
        return
    factor = math.exp(math.log(t_end / t_start) / n_moves) if t_start > 0 else 1.0
    temperature = t_start
    for _ in range(n_moves):
        temperature *= factor
        counters[EVALUATED] += 1
        u = movable[below(rng, n_movable)]
        a = state.assign[u]
        v = -1  # the unit that u swaps with, or -1 for a relocation
        if n_movable > 1 and uniform(rng) < swap_share:
            v = movable[below(rng, n_movable)]
            b = state.assign[v]
            if a == b:
                continue
            violation = swap_violation(model, state, u, v)
            if violation > 0:
                continue
            delta = swap_delta(model, state, u, v)
        else:
            b = below(rng, n_territories - 1)
            if b >= a:
                b += 1
            violation = relocate_violation(model, state, u, a, b)
            if violation > 0:
                continue
            delta = relocate_delta(model, state, u, a, b)
        if not accept(violation, delta, temperature, rng):
            continue
        # The apply follows the acceptance test, and a swap is u's relocation, then v's.
        # With the apply inside an `if accept(...)` on each branch, numba kept about 60
        # reference-count operations per accepted move, 7 times the cost of the apply.
        # tests/test_compiled.py checks the compiled loop for them.
        relocate_apply(model, state, u, a, b)
        if v < 0:
            counters[ACCEPTED_RELOCATE] += 1
        else:
            relocate_apply(model, state, v, b, a)
            counters[ACCEPTED_SWAP] += 1


@njit(cache=True, inline="always")
def accept(violation: int, delta: float, temperature: float, rng: np.ndarray) -> bool:
    if violation < 0 or delta <= 0.0:
        return True
    if not delta < _REJECT_RATIO * temperature:
        return False
    return uniform(rng) < math.exp(-delta / temperature)


@njit(cache=True, parallel=True)
def anneal_chains(
    model: Model,
    assign: np.ndarray,
    bal_sums: np.ndarray,
    group_counts: np.ndarray,
    limit_counts: np.ndarray,
    costs: np.ndarray,
    violation: np.ndarray,
    rngs: np.ndarray,
    n_moves: int,
    t_start: np.ndarray,
    t_end: np.ndarray,
    swap_share: float,
    counters: np.ndarray,
) -> None:
    """Anneal every chain in parallel; arrays carry the chain as their first axis.

    `t_start` and `t_end` are float64[chains]: each chain cools on its own schedule.
    """
    for chain in prange(assign.shape[0]):
        state = State(
            assign[chain],
            bal_sums[chain],
            group_counts[chain],
            limit_counts[chain],
            costs[chain],
            violation[chain],
        )
        anneal_chain(
            model,
            state,
            rngs[chain],
            n_moves,
            t_start[chain],
            t_end[chain],
            swap_share,
            counters[chain],
        )


@njit(cache=True)
def sample_deltas(model: Model, state: State, rng: np.ndarray, n_samples: int) -> np.ndarray:
    """Weighted deltas of random feasible relocations from `state`, none applied."""
    deltas = np.empty(n_samples)
    n_found = 0
    movable = model.movable
    if movable.shape[0] == 0 or model.n_territories < 2:
        return deltas[:0]
    for _ in range(n_samples * 4):
        if n_found == n_samples:
            break
        u = movable[below(rng, movable.shape[0])]
        a = state.assign[u]
        b = below(rng, model.n_territories - 1)
        if b >= a:
            b += 1
        if relocate_violation(model, state, u, a, b) > 0:
            continue
        deltas[n_found] = relocate_delta(model, state, u, a, b)
        n_found += 1
    return deltas[:n_found]
