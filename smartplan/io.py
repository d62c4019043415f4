"""Reading accounts tables and writing plans, chosen by file extension.

Writers go through a temporary file in the target folder that is renamed into place, so a
failed or interrupted run never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from smartplan.errors import InputError

TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel accounts table."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"accounts file not found: {path}")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".xlsx":
            return pd.read_excel(path, sheet_name=sheet or 0)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    raise InputError(
        f"unsupported file type {suffix!r} for {path}; use one of {', '.join(TABLE_SUFFIXES)}"
    )


def check_output_path(path: str | Path) -> Path:
    """Validate an output table path before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet", ".pq", ".xlsx"):
        raise InputError(
            f"output file {path} has unsupported extension {path.suffix!r}; use .csv, "
            ".parquet or .xlsx"
        )
    if not path.parent.exists():
        raise InputError(f"output folder {path.parent} does not exist; create it first")
    return path


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write `frame` atomically as CSV, Parquet or Excel by the extension of `path`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))
    elif suffix in (".parquet", ".pq"):
        _write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))
    elif suffix == ".xlsx":
        _write_atomic(path, lambda tmp: frame.to_excel(tmp, index=False))
    else:
        check_output_path(path)


def write_text_atomic(path: str | Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    _write_atomic(Path(path), write)


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    with _temporary_sibling(path) as tmp:
        write(tmp)
        os.replace(tmp, path)


@contextlib.contextmanager
def _temporary_sibling(path: Path) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
