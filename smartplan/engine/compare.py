"""Comparison of term costs in priority order, for Python and for compiled kernels."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Two term costs count as equal when they differ by less than EQUAL times the larger, or
# by less than NOISE. Term costs are shares of a total, and a sum of many float updates
# drifts by about 1e-16 per update around a true 0.
EQUAL = 1e-12
NOISE = 1e-12


@njit(cache=True, inline="always")
def _margin(x: float, y: float) -> float:
    margin = max(EQUAL * max(abs(x), abs(y)), NOISE)
    return margin if margin < math.inf else 0.0


@njit(cache=True)
def lexicographic_less(a: np.ndarray, b: np.ndarray) -> bool:
    """True when term costs `a` are better than `b` in priority order (index 0 first)."""
    for c in range(a.shape[0]):
        x = a[c]
        y = b[c]
        if x == y:
            continue
        margin = _margin(x, y)
        if x < y - margin:
            return True
        if x > y + margin:
            return False
    return False
