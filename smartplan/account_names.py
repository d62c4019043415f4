"""Readable account names for messages: a name column of the table when it has one."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

# Headers recognised as an account's display name, compared after lower-casing and turning
# spaces and hyphens into underscores; the first present wins.
NAME_HEADERS = (
    "name",
    "account_name",
    "company",
    "company_name",
    "customer",
    "customer_name",
    "organization",
    "organization_name",
)


def name_column(frame: pd.DataFrame, id_column: str | None = None) -> str | None:
    """Return the header of the table's name column, or None."""
    normalised = {_normalise(str(header)): str(header) for header in frame.columns}
    for candidate in NAME_HEADERS:
        header = normalised.get(candidate)
        if header is not None and header != id_column:
            return header
    return None


def _normalise(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def account_labels(
    frame: pd.DataFrame, ids: np.ndarray, rows: Sequence[int] | np.ndarray, id_column: str
) -> list[str]:
    """Return 'Walmart (F0001)' for each row, or the bare id when the row has no name."""
    column = name_column(frame, id_column)
    labels = []
    for row in rows:
        account = str(ids[int(row)])
        name = frame[column].iloc[int(row)] if column is not None else None
        if isinstance(name, str) and name.strip() and name.strip() != account:
            labels.append(f"{name.strip()} ({account})")
        else:
            labels.append(account)
    return labels


def list_accounts(
    frame: pd.DataFrame,
    ids: np.ndarray,
    rows: Sequence[int] | np.ndarray,
    id_column: str,
    shown: int = 3,
) -> str:
    """Return 'A (1), B (2) and 4 more' for `rows`, naming at most `shown` accounts."""
    labels = account_labels(frame, ids, list(rows)[:shown], id_column)
    if len(rows) <= shown:
        if len(labels) <= 1:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{', '.join(labels)} and {len(rows) - shown} more"
