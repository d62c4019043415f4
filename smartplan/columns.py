"""Validated access to the columns of an accounts table.

Each function raises `InputError` naming the column, the offending rows (1-based data
rows, header excluded), their values and the fix.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from smartplan.errors import InputError

_SHOWN = 5


def require_column(frame: pd.DataFrame, column: str, purpose: str) -> pd.Series:
    """Return `frame[column]`, or raise naming the closest existing column names."""
    if column in frame.columns:
        return frame[column]
    names = [str(name) for name in frame.columns]
    close = difflib.get_close_matches(column, names, n=3, cutoff=0.5)
    hint = f"; closest columns: {', '.join(repr(name) for name in close)}" if close else ""
    raise InputError(
        f"missing column {column!r} ({purpose}){hint}. Rename the column, fix the spec, "
        "or map the header in [accounts.columns]"
    )


def describe_rows(rows: np.ndarray, values: pd.Series | None = None) -> str:
    """Describe up to five rows as 'rows 3 ('x'), 9 ('y') and 4 more'."""
    parts = []
    for row in rows[:_SHOWN]:
        label = str(int(row) + 1)
        if values is not None:
            label += f" ({values.iloc[int(row)]!r})"
        parts.append(label)
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {', '.join(parts)}{more}"


def account_ids(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return the ids as an object array of stripped strings; reject empty or repeated ids."""
    raw = require_column(frame, column, "account id")
    ids = raw.astype("string").str.strip()
    empty = np.flatnonzero((ids.isna() | (ids == "")).to_numpy())
    if len(empty):
        raise InputError(
            f"column {column!r} has empty account ids in {describe_rows(empty)}; "
            "give every account an id or remove those rows"
        )
    values = ids.to_numpy(dtype=object)
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        rows = np.flatnonzero(repeated)
        shown = sorted({values[row] for row in rows})
        raise InputError(
            f"column {column!r} has duplicate account ids {shown[:_SHOWN]}"
            f"{' and more' if len(shown) > _SHOWN else ''} in {describe_rows(rows)}; "
            "account ids must be unique"
        )
    return values


def metric_values(frame: pd.DataFrame, column: str, purpose: str) -> np.ndarray:
    """Return a non-negative float64 metric; reject text, NaN and negative values."""
    raw = require_column(frame, column, purpose)
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(raw, errors="coerce")
    not_numeric = np.flatnonzero((numbers.isna() & raw.notna()).to_numpy())
    if len(not_numeric):
        raise InputError(
            f"column {column!r} ({purpose}) has non-numeric values in "
            f"{describe_rows(not_numeric, raw)}; use plain numbers"
        )
    missing = np.flatnonzero(numbers.isna().to_numpy())
    if len(missing):
        raise InputError(
            f"column {column!r} ({purpose}) is empty or NaN in {describe_rows(missing)}; "
            "fill in the values (0 where there is none) or narrow the criterion's where"
        )
    values = numbers.to_numpy(dtype=np.float64)
    infinite = np.flatnonzero(~np.isfinite(values))
    if len(infinite):
        raise InputError(
            f"column {column!r} ({purpose}) is infinite in {describe_rows(infinite, raw)}"
        )
    negative = np.flatnonzero(values < 0)
    if len(negative):
        raise InputError(
            f"column {column!r} ({purpose}) is negative in {describe_rows(negative, raw)}; "
            "a balanced metric must be 0 or more, so clip it or use another column"
        )
    return values


def text_values(frame: pd.DataFrame, column: str, purpose: str) -> np.ndarray:
    """Return an object array of stripped strings, with None for empty cells."""
    raw = require_column(frame, column, purpose)
    text = raw.astype("string").str.strip()
    text = text.mask(text == "")
    return np.array([None if pd.isna(value) else str(value) for value in text], dtype=object)
