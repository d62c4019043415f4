"""Numbers written as text in exported tables: currency signs, digit grouping, decimal commas.

CRM exports and spreadsheets write metrics such as "$1,234.50", "1.234,50 €" or
"(2,000)". `parse_numbers` reads a column of such cells under one rule:

- The decimal mark is "," for a CSV file whose separator is ";" (the convention of the
  locales whose spreadsheets write ";"-separated files) and "." everywhere else, including
  Parquet, Excel and DataFrames passed from Python. `io.read_table` stores the mark in
  ``frame.attrs["decimal"]``.
- The other one of "." and "," separates thousands, and so do spaces (also no-break and
  narrow no-break spaces) and apostrophes ("1'234.50"). Separators must group the digits
  by three, so "1,23" in a "." file is rejected, never read as 123.
- One currency sign may stand before or after the number: any Unicode currency symbol such
  as $ € £ ¥, or a three-letter code such as USD. A column must not mix currencies.
- A leading "-" or "+", or accounting parentheses "(1,234)", give the sign.
- Empty cells are missing (NaN); anything else, such as "12%" or "n/a", is invalid.

Only the metric columns of a spec go through this rule; ids, owners and other text columns
are read as they are.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

DECIMAL_ATTR = "decimal"

_THOUSANDS_SPACES = " \u00a0\u202f'\u2019"
_CODE = re.compile(r"[A-Z]{3}")
_EXPONENT = re.compile(r"[eE][+-]?\d+")


def decimal_mark_for(separator: str) -> str:
    """Return the decimal mark of a CSV file with this field separator."""
    return "," if separator == ";" else "."


@dataclass(frozen=True)
class ParsedColumn:
    """A column read as numbers: N cells."""

    values: np.ndarray  # float64[N], NaN for missing and invalid cells
    invalid: np.ndarray  # bool[N], cells that are not numbers under the rule
    currency: np.ndarray  # object[N], the currency sign of each cell, or None


def parse_numbers(series: pd.Series, decimal: str = ".") -> ParsedColumn:
    """Read every cell of `series` as a number under the module's rule."""
    if decimal not in (".", ","):
        raise ValueError(f"decimal mark must be '.' or ',', got {decimal!r}")
    n = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return ParsedColumn(values, np.zeros(n, dtype=bool), np.full(n, None, dtype=object))
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return ParsedColumn(values, np.zeros(n, dtype=bool), np.full(n, None, dtype=object))
    values = _plain_numbers(series, decimal)
    invalid = np.zeros(n, dtype=bool)
    currency = np.full(n, None, dtype=object)
    cells = series.to_numpy(dtype=object)
    for row in np.flatnonzero(np.isnan(values)):
        try:
            values[row], currency[row] = parse_cell(cells[row], decimal)
        except ValueError:
            invalid[row] = True
    return ParsedColumn(values, invalid, currency)


def _plain_numbers(series: pd.Series, decimal: str) -> np.ndarray:
    """float64[N]: cells that are finite plain numbers, NaN for the rest.

    This is the fast path for the common case, and it gives the same value as `parse_cell`
    for every cell it reads. It leaves a cell with a thousands separator ("," under a "."
    decimal mark, "." under a "," one) to `parse_cell`, and reads the others with pandas
    after turning a "," decimal mark into ".".
    """
    text = series.astype("string")
    grouped = text.str.contains("," if decimal == "." else ".", regex=False)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    values[grouped.to_numpy(dtype=bool, na_value=False) | ~np.isfinite(values)] = np.nan
    return values


def parse_cell(cell: object, decimal: str = ".") -> tuple[float, str | None]:
    """Return (value, currency sign) of one cell; NaN for an empty cell.

    Raises ValueError for a cell that is not a number under the module's rule. A boolean
    cell in a text column is invalid.
    """
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return math.nan, None
    if isinstance(cell, bool | np.bool_):
        raise ValueError("a boolean is not a metric value")
    if isinstance(cell, int | float | np.integer | np.floating):
        return float(cell), None
    if not isinstance(cell, str):
        raise ValueError(f"unsupported cell type {type(cell).__name__}")
    text = cell.strip()
    if not text:
        return math.nan, None
    return _parse_text(text, decimal)


def _parse_text(text: str, decimal: str) -> tuple[float, str | None]:
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative = True
        text = text[1:-1].strip()
    text, sign = _take_sign(text)
    text, currency = _take_currency(text)
    if sign is None:
        text, sign = _take_sign(text)
    if sign is not None and negative:
        raise ValueError("a sign inside accounting parentheses")
    if sign == "-":
        negative = True
    value = _parse_magnitude(text, decimal)
    return (-value if negative else value), currency


def _take_sign(text: str) -> tuple[str, str | None]:
    if text[:1] in ("-", "+", "\u2212"):
        sign = "+" if text[0] == "+" else "-"
        return text[1:].lstrip(), sign
    return text, None


def _take_currency(text: str) -> tuple[str, str | None]:
    """Remove one currency symbol or code from either end of `text`."""
    found: list[tuple[str, str]] = []
    if text and unicodedata.category(text[0]) == "Sc":
        found.append((text[0], text[1:].lstrip()))
    elif _CODE.fullmatch(text[:3]) and (len(text) == 3 or not text[3].isalpha()):
        found.append((text[:3], text[3:].lstrip()))
    if text and unicodedata.category(text[-1]) == "Sc":
        found.append((text[-1], text[:-1].rstrip()))
    elif _CODE.fullmatch(text[-3:]) and (len(text) == 3 or not text[-4].isalpha()):
        found.append((text[-3:], text[:-3].rstrip()))
    if not found:
        return text, None
    if len(found) > 1:
        raise ValueError("two currency signs")
    return found[0][1], found[0][0]


def _parse_magnitude(text: str, decimal: str) -> float:
    """Parse unsigned digits with optional grouping, decimal part and exponent."""
    if not text or not (text[0].isdigit() or text[0] == decimal):
        raise ValueError("no digits")
    thousands = "," if decimal == "." else "."
    exponent = ""
    match = _EXPONENT.search(text)
    if match is not None and match.end() == len(text):
        exponent = match.group()
        text = text[: match.start()]
    whole, _, fraction = text.partition(decimal)
    groups = _split_groups(whole, thousands + _THOUSANDS_SPACES)
    if exponent and len(groups) > 1:
        raise ValueError("an exponent with digit grouping")
    digits = "".join(groups)
    if not _ascii_digits(digits) or not _ascii_digits(fraction) or not digits + fraction:
        raise ValueError("no digits")
    return float(f"{digits or '0'}.{fraction or '0'}{exponent}")


def _split_groups(whole: str, separators: str) -> list[str]:
    """Split the integer part at one kind of separator; groups after the first have 3 digits."""
    used = {char for char in whole if char in separators}
    if not used:
        return [whole]
    if len(used) > 1:
        raise ValueError("mixed digit grouping")
    separator = used.pop()
    groups = whole.split(separator)
    if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
        raise ValueError("digits not grouped by three")
    return groups


def _ascii_digits(text: str) -> bool:
    """True when every character of `text` is an ASCII digit (also for the empty string)."""
    return all("0" <= char <= "9" for char in text)


def number_hint(text: str, decimal: str) -> str:
    """Explain why `text` is not a number here, when another decimal mark would read it."""
    other = "," if decimal == "." else "."
    try:
        _parse_text(text.strip(), other)
    except ValueError:
        return ""
    if decimal == ".":
        return (
            f"{text.strip()!r} reads as a number only with ',' as the decimal mark, which "
            "SmartPlan uses for ';'-separated CSV files; write it with a '.' decimal mark"
        )
    return (
        f"{text.strip()!r} reads as a number only with '.' as the decimal mark, but this "
        "file is ';'-separated, so ',' is its decimal mark; write it as 1.234,50"
    )
