"""Units: accounts merged by hard groups, the atoms that the search moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def merge_units(keys: list[np.ndarray], n_accounts: int) -> tuple[np.ndarray, int]:
    """Return (int32[N] unit of each account, number of units).

    Each array in `keys` holds one group key per account (None for no group). Accounts
    that share a key in any array end up in one unit, transitively. Units are numbered in
    the order of their first account.
    """
    if not keys:
        return np.arange(n_accounts, dtype=np.int32), n_accounts
    sources, targets = [], []
    for column in keys:
        present = np.flatnonzero(pd.notna(np.asarray(column, dtype=object)))
        if len(present) == 0:
            continue
        codes, _ = pd.factorize(np.asarray(column, dtype=object)[present])
        first = np.full(codes.max() + 1, -1, dtype=np.int64)
        # Reversed assignment leaves the first member of each code in `first`.
        first[codes[::-1]] = present[::-1]
        sources.append(present)
        targets.append(first[codes])
    if not sources:
        return np.arange(n_accounts, dtype=np.int32), n_accounts
    rows = np.concatenate(sources)
    cols = np.concatenate(targets)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), (n_accounts,) * 2)
    _, labels = connected_components(graph, directed=False)
    _, first_index, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first_index, kind="stable"), kind="stable")
    return order[inverse].astype(np.int32), len(first_index)
