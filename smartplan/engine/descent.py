"""Final descent: apply improving moves until none is left or the pass limit is reached.

Small instances scan every relocation and every swap, so the result is a true local
optimum for both neighbourhoods. On large ones a full scan costs too much, and the descent
only tries to return each unit away from home to its home territory.
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
# The final descent scans every relocation up to this many units x territories, and every
# swap up to this many units. Larger models get passes that return units home.
RELOCATION_SCAN_LIMIT = 50_000_000
SWAP_SCAN_UNITS = 3_000


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


@njit(cache=True)
def return_home(model: Model, state: State, preferred: np.ndarray) -> int:
    """Move each unit away from its home territory back home where that improves, in one pass.

    A random relocation goes home with probability 1 / (territories - 1). With hundreds of
    territories annealing rarely tries it, so this pass tries it for every unit.
    """
    applied = 0
    for i in range(model.movable.shape[0]):
        u = model.movable[i]
        a = state.assign[u]
        home = preferred[u]
        if home < 0 or home == a:
            continue
        violation = relocate_violation(model, state, u, a, home)
        if violation > 0:
            continue
        if violation < 0 or relocate_delta(model, state, u, a, home) < IMPROVEMENT:
            relocate_apply(model, state, u, a, home)
            applied += 1
    return applied


def descend(
    model: Model, state: State, preferred: np.ndarray | None = None, max_passes: int = 50
) -> int:
    """Run full passes while they improve; return the number of moves applied.

    Scans every pair only up to SWAP_SCAN_UNITS movable units, and every relocation only up
    to RELOCATION_SCAN_LIMIT units x territories. Larger models get passes that try to
    return each unit home (`preferred`, -1 for none).
    """
    n_movable = model.movable.shape[0]
    scan_relocations = n_movable * model.n_territories <= RELOCATION_SCAN_LIMIT
    scan_swaps = n_movable <= SWAP_SCAN_UNITS
    applied = 0
    if not scan_relocations:
        if preferred is None:
            return 0
        for _ in range(max_passes):
            moved = return_home(model, state, preferred)
            applied += moved
            if moved == 0:
                break
        return applied
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
