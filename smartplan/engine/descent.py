"""Final descent: apply improving moves until none is left or the pass limit is reached.

Small instances scan every relocation and every swap, so the result is a true local
optimum for both neighbourhoods. Large ones use random moves at zero temperature.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from smartplan.engine.kernels import (
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_apply,
    swap_delta,
    swap_violation,
)
from smartplan.engine.model import Model, State

# A move improves the plan when its weighted delta is below this; smaller values are
# rounding noise and would let the descent cycle.
IMPROVEMENT = -1e-12


@njit(cache=True)
def descend_relocations(model: Model, state: State) -> int:
    """Move each movable unit to its best feasible territory, in one pass."""
    applied = 0
    for i in range(model.movable.shape[0]):
        u = model.movable[i]
        a = state.assign[u]
        best_b = -1
        best_delta = IMPROVEMENT
        best_violation = 0
        for b in range(model.n_territories):
            if b == a:
                continue
            violation = relocate_violation(model, state, u, a, b)
            if violation > 0:
                continue
            delta = relocate_delta(model, state, u, a, b)
            if violation < best_violation or (violation == best_violation and delta < best_delta):
                best_b = b
                best_delta = delta
                best_violation = violation
        if best_b >= 0:
            relocate_apply(model, state, u, a, best_b)
            applied += 1
    return applied


@njit(cache=True)
def descend_swaps(model: Model, state: State) -> int:
    """Apply improving swaps over all pairs of movable units, in one pass."""
    applied = 0
    movable = model.movable
    for i in range(movable.shape[0]):
        u = movable[i]
        for j in range(i + 1, movable.shape[0]):
            v = movable[j]
            if state.assign[u] == state.assign[v]:
                continue
            violation = swap_violation(model, state, u, v)
            if violation > 0:
                continue
            if violation < 0 or swap_delta(model, state, u, v) < IMPROVEMENT:
                swap_apply(model, state, u, v)
                applied += 1
    return applied


def descend(model: Model, state: State, max_passes: int = 50) -> int:
    """Run full passes while they improve; return the number of moves applied.

    Scans every pair only when there are at most 3,000 movable units, and every relocation
    only when units times territories is at most 50 million.
    """
    n_movable = model.movable.shape[0]
    scan_relocations = n_movable * model.n_territories <= 50_000_000
    scan_swaps = n_movable <= 3_000
    applied = 0
    if not scan_relocations:
        return 0
    for _ in range(max_passes):
        moved = descend_relocations(model, state)
        if scan_swaps:
            moved += descend_swaps(model, state)
        applied += moved
        if moved == 0:
            break
    return applied


def is_local_optimum(model: Model, state: State) -> bool:
    """True when no single relocation improves the plan (used by tests)."""
    probe = State(*(np.array(array, copy=True) for array in state))
    return descend_relocations(model, probe) == 0
