"""Reading accounts tables and writing plans, chosen by file extension.

Readers accept what CRM exports and spreadsheets produce. CSV files may be UTF-8 with or
without a byte order mark, UTF-16 with a mark, or Windows-1252 (with a warning). Their
separator is one of ",", ";", tab and "|", sniffed from the first lines, and whitespace
around headers and values and blank lines at the end are ignored. Parquet files and Excel
.xlsx workbooks (one sheet, chosen by name) get the same stripping. Columns named in
`text_columns` are read as strings, so ids such as "00123" keep their leading zeros. The
decimal mark of the file (see `smartplan.numbers`) is stored in ``frame.attrs["decimal"]``
and its path in ``frame.attrs["source"]``.

Writers go through a temporary file in the target folder that is renamed into place, so a
failed or interrupted run never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import os
import re
import signal
import tempfile
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from smartplan.errors import InputError, SmartPlanWarning
from smartplan.numbers import DECIMAL_ATTR, decimal_mark_for

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx",)
TABLE_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES
OUTPUT_SUFFIXES = (".csv", *PARQUET_SUFFIXES, *EXCEL_SUFFIXES)
SEPARATORS = (",", ";", "\t", "|")
SOURCE_ATTR = "source"
SEPARATOR_ATTR = "separator"

# Lines of a CSV file that the separator is sniffed from.
_SNIFF_LINES = 50


def read_table(
    path: str | Path, sheet: str | None = None, text_columns: Collection[str] = ()
) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel table (see the module docstring).

    Header names are stripped of surrounding whitespace, and so are string cells. Trailing
    rows with no value in any column are dropped. Raises `InputError` naming the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        raise InputError(
            f"unsupported file type {suffix!r} for {path}{hint}; use one of "
            f"{', '.join(TABLE_SUFFIXES)}"
        )
    if sheet is not None and suffix not in EXCEL_SUFFIXES:
        raise InputError(f"--sheet {sheet!r} applies only to .xlsx files, not to {path}")
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(path, set(text_columns))
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
        frame.attrs[DECIMAL_ATTR] = "."
    else:
        frame = _read_excel(path, sheet, set(text_columns))
        frame.attrs[DECIMAL_ATTR] = "."
    frame.attrs[SOURCE_ATTR] = str(path)
    return frame


def _read_csv(path: Path, text_columns: set[str]) -> pd.DataFrame:
    text = _decode(path)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(f"{path} is empty; it needs a header row and one row per account")
    separator = sniff_separator(lines[:_SNIFF_LINES])
    header = next(csv.reader([lines[0]], delimiter=separator))
    _check_headers(header, path)
    decimal = decimal_mark_for(separator)
    options: dict[str, Any] = {
        "sep": separator,
        "decimal": decimal,
        "skipinitialspace": True,
        "skip_blank_lines": True,
    }
    try:
        # pandas strips only leading spaces from headers, so take its names for dtype.
        names = pd.read_csv(io.StringIO(text), nrows=0, **options).columns
        dtype = {name: "str" for name in names if str(name).strip() in text_columns}
        frame = pd.read_csv(io.StringIO(text), dtype=dtype, **options)
    except (ValueError, pd.errors.ParserError) as error:
        reason = _parser_reason(str(error))
        raise InputError(
            f"cannot read {path} as a {_separator_name(separator)}-separated file "
            f"({reason}). "
            "Quote values that contain the separator, or give every row as many fields as "
            "the header"
        ) from None
    frame = _tidy(frame, path)
    frame.attrs[DECIMAL_ATTR] = decimal
    frame.attrs[SEPARATOR_ATTR] = separator
    return frame


def _parser_reason(message: str) -> str:
    """Reword pandas' tokenizer error ('Expected 3 fields in line 5, saw 4') for a person."""
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if ragged is not None:
        expected, line, seen = ragged.groups()
        return f"line {line} has {seen} fields but the header has {expected}"
    return " ".join(message.split())


def _decode(path: Path) -> str:
    """Decode UTF-8 (with or without BOM) or UTF-16 with BOM; else Windows-1252, warning."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        warnings.warn(
            f"{path} is not valid UTF-8 (byte {data[error.start]:#04x} at offset "
            f"{error.start}); reading it as Windows-1252. Save it as UTF-8 to be sure of "
            "accented names and currency signs",
            SmartPlanWarning,
            stacklevel=4,
        )
        return data.decode("cp1252", errors="replace")


def sniff_separator(lines: list[str]) -> str:
    """Return the separator among , ; tab | that splits `lines` into the most equal rows.

    A candidate scores the number of lines whose field count equals the header's, when the
    header has at least two fields; the highest score wins, then the larger field count,
    then the order of `SEPARATORS`. A file with one column gets ",".
    """
    best = (0, 0, ",")
    for separator in SEPARATORS:
        rows = list(csv.reader(lines, delimiter=separator))
        width = len(rows[0]) if rows else 0
        if width < 2:
            continue
        matching = sum(1 for row in rows if len(row) == width)
        if (matching, width) > best[:2]:
            best = (matching, width, separator)
    return best[2]


def _separator_name(separator: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[separator]


def _check_headers(header: list[str], path: Path) -> None:
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise InputError(
            f"{path} has repeated column headers {repeated}; rename them so each is unique"
        )


def _tidy(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Strip headers and string cells; drop empty unnamed columns and trailing empty rows."""
    frame = frame.rename(columns=lambda name: str(name).strip())
    for position, name in enumerate(frame.columns):
        if not (name.startswith("Unnamed: ") or not name):
            continue
        if frame[name].notna().any():
            raise InputError(
                f"{path}: column {position + 1} has no header but holds values; name it or "
                "delete it"
            )
    frame = frame.drop(columns=[name for name in frame.columns if name.startswith("Unnamed: ")])
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
            frame[name] = column.map(lambda cell: cell.strip() if isinstance(cell, str) else cell)
    last = len(frame)
    while last > 0 and _is_empty_row(frame.iloc[last - 1].to_numpy(dtype=object)):
        last -= 1
    return frame.iloc[:last].reset_index(drop=True)


def _is_empty_row(cells: Iterable[Any]) -> bool:
    return all(cell == "" if isinstance(cell, str) else bool(pd.isna(cell)) for cell in cells)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (ValueError, OSError) as error:
        raise InputError(f"cannot read {path} as Parquet: {error}") from None
    return _tidy(frame, path)


def _read_excel(path: Path, sheet: str | None, text_columns: set[str]) -> pd.DataFrame:
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            names = [str(name) for name in workbook.sheet_names]
            if sheet is not None and sheet not in names:
                close = difflib.get_close_matches(sheet, names, n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InputError(
                    f"{path} has no sheet {sheet!r}{hint}; its sheets are "
                    f"{', '.join(repr(name) for name in names)}. Pass one with --sheet"
                )
            chosen = sheet if sheet is not None else names[0]
            header = pd.read_excel(workbook, sheet_name=chosen, nrows=0).columns
            dtype = {name: str for name in header if str(name).strip() in text_columns}
            frame = pd.read_excel(workbook, sheet_name=chosen, dtype=dtype)
    except InputError:
        raise
    except (ValueError, OSError, KeyError) as error:
        raise InputError(f"cannot read {path} as an Excel workbook: {error}") from None
    _check_excel_headers([str(name) for name in frame.columns], path)
    return _tidy(frame, path)


def _check_excel_headers(names: list[str], path: Path) -> None:
    """Reject repeated headers, which pandas has already renamed "x", "x.1", "x.2"."""
    stripped = {name.strip() for name in names}
    repeated = sorted(
        {
            base
            for name in names
            for base, _, number in [name.strip().rpartition(".")]
            if number.isdigit() and base in stripped
        }
    )
    if repeated:
        raise InputError(
            f"{path} has repeated column headers {repeated}; rename them so each is unique"
        )


def check_output_path(path: str | Path, inputs: Collection[str | Path] = ()) -> Path:
    """Validate an output table path before any work is done.

    Rejects an unsupported extension, a missing folder, and a path that names one of the
    `inputs`, which the rename would replace.
    """
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(
            f"output file {path} has unsupported extension {path.suffix!r}; use .csv, "
            ".parquet or .xlsx"
        )
    check_output_folder(path, inputs)
    return path


def check_output_folder(path: Path, inputs: Collection[str | Path] = ()) -> None:
    """Reject an output path whose folder is missing or that would replace an input file."""
    if not path.parent.is_dir():
        raise InputError(f"output folder {path.parent} does not exist; create it first")
    for source in inputs:
        if Path(source).exists() and path.exists() and path.samefile(source):
            raise InputError(
                f"output file {path} is also an input of this run; write to another file"
            )


def table_writer(frame: pd.DataFrame, suffix: str) -> Callable[[Path], None]:
    """Return a function that writes `frame` to a path in the format of `suffix`."""
    suffix = suffix.lower()
    if suffix == ".csv":
        return lambda target: frame.to_csv(target, index=False, lineterminator="\n")
    if suffix in PARQUET_SUFFIXES:
        return lambda target: frame.to_parquet(target, index=False)
    if suffix in EXCEL_SUFFIXES:
        return lambda target: frame.to_excel(target, index=False, engine="openpyxl")
    raise InputError(f"cannot write a table as {suffix!r}; use .csv, .parquet or .xlsx")


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write `frame` atomically as CSV, Parquet or Excel by the extension of `path`."""
    path = Path(path)
    write_files_atomic({path: table_writer(frame, path.suffix)})


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write `text` as UTF-8 to `path` through a temporary file renamed into place."""

    def write(target: Path) -> None:
        target.write_text(text, encoding="utf-8")

    write_files_atomic({Path(path): write})


def write_files_atomic(writers: Mapping[Path, Callable[[Path], None]]) -> None:
    """Write several files so that either all of them are replaced or none is.

    Each writer fills a temporary file next to its target; only when every writer has
    succeeded are the files renamed into place, with SIGINT held back during the renames.
    An exception or Ctrl-C before that removes the temporary files and leaves the targets
    as they were.
    """
    with contextlib.ExitStack() as stack:
        staged = []
        for path, write in writers.items():
            tmp = stack.enter_context(_temporary_sibling(path))
            write(tmp)
            staged.append((tmp, path))
        with _sigint_held():
            for tmp, path in staged:
                os.replace(tmp, path)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Delay SIGINT until the block ends (main thread on POSIX; elsewhere a no-op)."""
    can_block = hasattr(signal, "pthread_sigmask") and (
        threading.current_thread() is threading.main_thread()
    )
    if not can_block:
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _temporary_sibling(path: Path) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(handle)
    tmp = Path(name)
    # mkstemp creates the file readable by its owner only; give it the usual permissions.
    os.chmod(tmp, 0o666 & ~_current_umask())
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
