"""Validated access to the columns of an accounts table.

Each function raises `InputError` naming the column, the offending rows (1-based data
rows, header excluded), their values and the fix.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from smartplan.errors import InputError
from smartplan.numbers import DECIMAL_ATTR, number_hint, parse_numbers

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


def describe_rows(
    rows: np.ndarray, values: pd.Series | None = None, index: pd.Index | None = None
) -> str:
    """Describe up to five rows as 'rows 3 ('x'), 9 ('y') and 4 more'.

    `rows` are positions. A row is numbered by its label + 1 in `index` (or in the index of
    `values`) when that index contains integers, which after `encode` are the 0-based rows of
    the input table; otherwise by its position + 1.
    """
    if index is None and values is not None:
        index = values.index
    numbers = _row_numbers(rows, index)
    parts = []
    for row, number in zip(rows[:_SHOWN], numbers[:_SHOWN], strict=False):
        label = str(number)
        if values is not None:
            value = values.iloc[int(row)]
            label += f" ({(value.item() if isinstance(value, np.generic) else value)!r})"
        parts.append(label)
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {', '.join(parts)}{more}"


def _row_numbers(rows: np.ndarray, index: pd.Index | None) -> list[int]:
    positions = np.asarray(rows[:_SHOWN], dtype=np.int64)
    if index is not None and pd.api.types.is_integer_dtype(index.dtype):
        return [int(label) + 1 for label in index.to_numpy()[positions]]
    return [int(position) + 1 for position in positions]


def account_ids(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return the ids as an object array of stripped strings; reject empty or repeated ids."""
    raw = _integers_as_integers(require_column(frame, column, "account id"))
    values = _stripped(raw)
    empty = np.flatnonzero(pd.isna(values) | (values == ""))
    if len(empty):
        raise InputError(
            f"column {column!r} has empty account ids in {describe_rows(empty, index=raw.index)}; "
            "give every account an id or remove those rows"
        )
    if len(set(values)) < len(values):
        repeated = pd.Series(values).duplicated(keep=False).to_numpy()
        rows = np.flatnonzero(repeated)
        shown = sorted({values[row] for row in rows})
        raise InputError(
            f"column {column!r} has duplicate account ids {shown[:_SHOWN]}"
            f"{' and more' if len(shown) > _SHOWN else ''} in {describe_rows(rows, raw)}; "
            "account ids must be unique"
        )
    return values


def _integers_as_integers(series: pd.Series) -> pd.Series:
    """Convert a float column of whole numbers to nullable Int64; return others unchanged."""
    if not pd.api.types.is_float_dtype(series.dtype):
        return series
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values[~np.isnan(values)]
    whole = np.isfinite(present) & (present == np.round(present)) & (np.abs(present) < 2**53)
    return series.astype("Int64") if whole.all() else series


def metric_values(frame: pd.DataFrame, column: str, purpose: str) -> np.ndarray:
    """Return a non-negative float64 metric; reject text, NaN, negative and mixed currencies.

    Text cells are read by `smartplan.numbers.parse_numbers` with the decimal mark stored
    in ``frame.attrs["decimal"]`` by `smartplan.io.read_table` ("." when absent).
    """
    raw = require_column(frame, column, purpose)
    decimal = str(frame.attrs.get(DECIMAL_ATTR, "."))
    parsed = parse_numbers(raw, decimal)
    what = f"column {column!r} ({purpose})"

    not_numeric = np.flatnonzero(parsed.invalid)
    if len(not_numeric):
        first = raw.iloc[int(not_numeric[0])]
        hint = number_hint(first, decimal) if isinstance(first, str) else ""
        example = "1234.5, 1,234.50 or $1,234.50" if decimal == "." else "1234,5 or 1.234,50 €"
        raise InputError(
            f"{what} has non-numeric values in {describe_rows(not_numeric, raw)}; "
            + (hint or f"write plain numbers such as {example}")
        )
    _check_one_currency(parsed.currency, raw, what)

    missing = np.flatnonzero(np.isnan(parsed.values))
    if len(missing):
        raise InputError(
            f"{what} is empty or NaN in {describe_rows(missing, index=raw.index)}; "
            "fill in the values (0 where there is none) or narrow the criterion's where"
        )
    values = parsed.values
    infinite = np.flatnonzero(~np.isfinite(values))
    if len(infinite):
        raise InputError(
            f"{what} is infinite in {describe_rows(infinite, raw)}; replace those values "
            "with finite numbers"
        )
    negative = np.flatnonzero(values < 0)
    if len(negative):
        raise InputError(
            f"{what} is negative in {describe_rows(negative, raw)}; "
            "a balanced metric must be 0 or more, so clip it or use another column"
        )
    return values


def _check_one_currency(currency: np.ndarray, raw: pd.Series, what: str) -> None:
    """Reject a column whose cells carry different currency signs."""
    signs = pd.unique(currency[pd.notna(currency)])
    if len(signs) < 2:
        return
    parts = []
    for sign in signs[:3]:
        rows = np.flatnonzero(currency == sign)
        parts.append(f"{sign!r} in {describe_rows(rows[:2], raw)}")
    raise InputError(
        f"{what} mixes currencies: {'; '.join(parts)}; convert the column to one currency "
        "so its sums mean something"
    )


def text_values(frame: pd.DataFrame, column: str, purpose: str) -> np.ndarray:
    """Return an object array of stripped strings, with None for empty cells.

    A float column of whole numbers (integers with an empty cell, as pandas reads them)
    gives "7", not "7.0", so territory ids such as 7 match.
    """
    raw = _integers_as_integers(require_column(frame, column, purpose))
    values = _stripped(raw)
    values[values == ""] = None
    return values


def _stripped(series: pd.Series) -> np.ndarray:
    """Return the cells as an object array of stripped strings, with None for missing ones."""
    text = series.astype("string").str.strip()
    # pandas accepts any na_value, but its type stubs leave out None.
    return text.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
