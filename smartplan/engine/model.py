"""Flat array containers passed into the compiled kernels.

`Model` holds what a search never changes (unit values, bands, weights, sparse rows for
keep, soft groups and limits); `State` holds one chain's assignment and the aggregates kept
up to date move by move. Both are NamedTuples of numpy arrays so numba can type them.

Indices: U units, T territories, B balance terms, K keep terms, S soft-group terms,
G soft-group values (over all soft-group terms), L limits, C cost terms (B + K + S).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Model(NamedTuple):
    """Search data of one plan, in units (accounts merged by hard groups)."""

    n_territories: int
    movable: np.ndarray  # int32[M], units that are not pinned
    unit_pin: np.ndarray  # int32[U], pinned territory or -1
    bal_values: np.ndarray  # float64[U, B], each unit's value per balance term
    bal_lo: np.ndarray  # float64[B, T], lower edge of the tolerance band
    bal_hi: np.ndarray  # float64[B, T], upper edge of the tolerance band
    bal_scale: np.ndarray  # float64[B], 1 / criterion total (0 when the total is 0)
    bal_term: np.ndarray  # int32[B], cost term index of each balance term
    keep_ptr: np.ndarray  # int64[U + 1], CSR row pointers into the keep entries
    keep_slot: np.ndarray  # int32[E], keep term of each entry
    keep_home: np.ndarray  # int32[E], home territory of each entry
    keep_value: np.ndarray  # float64[E], count or metric kept when the unit stays home
    keep_scale: np.ndarray  # float64[K], 1 / total keep value of the term
    keep_term: np.ndarray  # int32[K]
    group_ptr: np.ndarray  # int64[U + 1], CSR row pointers into the soft-group entries
    group_value: np.ndarray  # int32[F], soft-group value id of each entry
    group_count: np.ndarray  # int32[F], accounts of that value inside the unit
    group_slot: np.ndarray  # int32[G], soft-group term of each value id
    group_scale: np.ndarray  # float64[S], 1 / largest possible number of splits
    group_term: np.ndarray  # int32[S]
    limit_ptr: np.ndarray  # int64[U + 1], CSR row pointers into the limit entries
    limit_id: np.ndarray  # int32[H], limit of each entry
    limit_count: np.ndarray  # int32[H], accounts of the unit that the limit counts
    limit_min: np.ndarray  # int32[L, T]
    limit_max: np.ndarray  # int32[L, T]
    weights: np.ndarray  # float64[C], priority weight of each cost term


class State(NamedTuple):
    """One chain's current plan and its aggregates."""

    assign: np.ndarray  # int32[U], territory of each unit
    bal_sums: np.ndarray  # float64[B, T]
    group_counts: np.ndarray  # int32[G, T], units holding each soft-group value
    limit_counts: np.ndarray  # int32[L, T]
    costs: np.ndarray  # float64[C], unweighted cost of each term
    violation: np.ndarray  # int64[1], total limit violation in accounts


def n_terms(model: Model) -> int:
    return int(model.weights.shape[0])
