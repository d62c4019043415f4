"""Readers, number parsing and atomic writers of `smartplan.io` and `smartplan.numbers`."""

from __future__ import annotations

import math
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartplan.columns import account_ids, metric_values, text_values
from smartplan.errors import InputError, SmartPlanWarning
from smartplan.io import (
    check_output_path,
    read_table,
    sniff_separator,
    write_files_atomic,
    write_table,
)
from smartplan.numbers import parse_cell, parse_numbers

# (cell, decimal mark, expected value and currency, or None when the cell is invalid)
CELLS = [
    ("1234.5", ".", (1234.5, None)),
    ("$1,234.50", ".", (1234.5, "$")),
    ("1.234,50 €", ",", (1234.5, "€")),
    ("1 234 567,8", ",", (1234567.8, None)),
    ("1\u00a0234,5", ",", (1234.5, None)),
    ("1'234.5", ".", (1234.5, None)),
    ("USD 2,000", ".", (2000.0, "USD")),
    ("2.000 EUR", ",", (2000.0, "EUR")),
    ("(2,000)", ".", (-2000.0, None)),
    ("-$5", ".", (-5.0, "$")),
    ("$-5", ".", (-5.0, "$")),
    ("+3", ".", (3.0, None)),
    (".5", ".", (0.5, None)),
    ("1.5e6", ".", (1.5e6, None)),
    ("  7 ", ".", (7.0, None)),
    ("0012", ".", (12.0, None)),
    ("1.234", ",", (1234.0, None)),
    ("1.234", ".", (1.234, None)),
    ("12%", ".", None),
    ("1,23", ".", None),
    ("1,234,56", ".", None),
    ("1,234.5", ",", None),
    ("1.2.3", ".", None),
    ("lots", ".", None),
    ("$€5", ".", None),
    ("(-3)", ".", None),
    ("1,234e3", ".", None),
    ("\u0661\u0662", ".", None),
    ("$", ".", None),
]


@pytest.mark.parametrize(("cell", "decimal", "expected"), CELLS)
def test_parse_cell(cell: str, decimal: str, expected: tuple[float, str | None] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            parse_cell(cell, decimal)
        return
    value, currency = parse_cell(cell, decimal)
    assert value == pytest.approx(expected[0])
    assert currency == expected[1]


def test_parse_cell_empty_is_nan() -> None:
    for cell in ("", "   ", None, np.nan, pd.NA):
        value, currency = parse_cell(cell)
        assert math.isnan(value)
        assert currency is None


def test_parse_numbers_keeps_numeric_columns() -> None:
    parsed = parse_numbers(pd.Series([1, 2, 3], dtype="int64"))
    assert parsed.values.tolist() == [1.0, 2.0, 3.0]
    assert not parsed.invalid.any()


def test_parse_numbers_flags_mixed_object_cells() -> None:
    parsed = parse_numbers(pd.Series([1.5, "$2", True, "x", None], dtype=object))
    assert parsed.values[:2].tolist() == [1.5, 2.0]
    assert parsed.invalid.tolist() == [False, False, True, True, False]
    assert parsed.currency.tolist() == [None, "$", None, None, None]


def test_metric_values_reads_decimal_comma_from_attrs() -> None:
    frame = pd.DataFrame({"revenue": ["1.234,50 €", "2,5 €"]})
    frame.attrs["decimal"] = ","
    assert metric_values(frame, "revenue", "balance metric").tolist() == [1234.5, 2.5]


def test_metric_values_hints_at_decimal_comma() -> None:
    frame = pd.DataFrame({"revenue": ["12", "1234,5"]})
    with pytest.raises(InputError) as error:
        metric_values(frame, "revenue", "balance metric")
    message = str(error.value)
    assert "row 2 ('1234,5')" in message
    assert "',' as the decimal mark" in message


def test_metric_values_rejects_mixed_currencies() -> None:
    frame = pd.DataFrame({"revenue": ["$5", "$6", "€7"]})
    with pytest.raises(InputError, match="mixes currencies: '\\$' in rows 1"):
        metric_values(frame, "revenue", "balance metric")


def test_metric_values_numbers_rows_by_index() -> None:
    frame = pd.DataFrame({"revenue": [1.0, -2.0]}, index=[6, 9])
    with pytest.raises(InputError, match="negative in row 10"):
        metric_values(frame, "revenue", "balance metric")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a,b,c", "1,2,3"], ","),
        (["a;b;c", "1,5;2;3"], ";"),
        (["a\tb", "1,5\t2"], "\t"),
        (["a|b|c", "x,y|2|3"], "|"),
        (["a;b", '"x;y";2', "3;4"], ";"),
        (["only"], ","),
    ],
)
def test_sniff_separator(lines: list[str], expected: str) -> None:
    assert sniff_separator(lines) == expected


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_read_csv_with_bom_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "accounts.csv",
        "\ufeffaccount_id;revenue;propensity\n00123;1.234,50 €;0,75\n00124;2.500;0,5\n",
    )
    frame = read_table(path, text_columns={"account_id", "revenue"})
    assert list(frame.columns) == ["account_id", "revenue", "propensity"]
    assert frame["account_id"].tolist() == ["00123", "00124"]
    assert frame["revenue"].tolist() == ["1.234,50 €", "2.500"]
    assert frame["propensity"].tolist() == [0.75, 0.5]
    assert frame.attrs["decimal"] == ","
    assert frame.attrs["separator"] == ";"


def test_read_csv_strips_whitespace_and_trailing_blank_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "accounts.csv",
        " account_id , tier \n a1 , A \n,\n a2,B  \n,\n , \n\n\n",
    )
    frame = read_table(path, text_columns={"account_id"})
    assert list(frame.columns) == ["account_id", "tier"]
    # The empty row between two accounts stays, so row numbers match the file.
    assert frame["account_id"].tolist()[0] == "a1"
    assert pd.isna(frame["account_id"].iloc[1])
    assert frame["account_id"].tolist()[2] == "a2"
    assert len(frame) == 3
    assert frame["tier"].tolist()[2] == "B"


def test_read_csv_utf16_and_cp1252(tmp_path: Path) -> None:
    text = "account_id\trevenue\nA1\t5\n"
    utf16 = _write(tmp_path, "utf16.txt", text, encoding="utf-16")
    assert read_table(utf16)["revenue"].tolist() == [5]
    cp1252 = _write(tmp_path, "cp1252.csv", "account_id;revenue\nA1;5 €\n", encoding="cp1252")
    with pytest.warns(SmartPlanWarning, match="not valid UTF-8"):
        frame = read_table(cp1252, text_columns={"revenue"})
    assert frame["revenue"].tolist() == ["5 €"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,b,a\n1,2,3\n", "repeated column headers ['a']"),
        ("a,,c\n1,2,3\n", "column 2 has no header but holds values"),
        ('a,b\n1,2\n3,4,5,6\n"x,y\n', "cannot read"),
    ],
)
def test_read_csv_rejects(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as error:
        read_table(path)
    assert fragment in str(error.value)
    assert "bad.csv" in str(error.value)


def test_read_csv_drops_empty_unnamed_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "accounts.csv", "a,b,\n1,2,\n3,4,\n")
    assert list(read_table(path).columns) == ["a", "b"]


def test_read_table_rejects_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"save it as \.xlsx"):
        read_table(_write(tmp_path, "old.xls", "x"))
    with pytest.raises(InputError, match=r"--sheet 'Accounts' applies only to \.xlsx"):
        read_table(_write(tmp_path, "a.csv", "a\n1\n"), sheet="Accounts")


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"account_id": ["00123", "x"], "revenue": [1.5, 2.0]})
    path = tmp_path / "accounts.parquet"
    write_table(frame, path)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back.attrs["decimal"] == "."


def _workbook(path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        pd.DataFrame(
            {"account_id": ["00123", "00124"], "revenue": ["$1,234.50", 7], "owner": [1, 2]}
        ).to_excel(writer, sheet_name="Accounts", index=False)


def test_excel_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "accounts.xlsx"
    _workbook(path)
    frame = read_table(path, sheet="Accounts", text_columns={"account_id", "owner"})
    assert frame["account_id"].tolist() == ["00123", "00124"]
    assert frame["owner"].tolist() == ["1", "2"]
    assert metric_values(frame, "revenue", "balance metric").tolist() == [1234.5, 7.0]
    # Without --sheet the first sheet is read.
    assert list(read_table(path).columns) == ["x"]


def test_excel_wrong_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "accounts.xlsx"
    _workbook(path)
    with pytest.raises(InputError) as error:
        read_table(path, sheet="Acounts")
    message = str(error.value)
    assert "has no sheet 'Acounts' (did you mean 'Accounts'?)" in message
    assert "its sheets are 'Notes', 'Accounts'" in message


def test_excel_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"account_id": ["00123", "7"], "territory": ["T01", "T02"]})
    path = tmp_path / "plan.xlsx"
    write_table(frame, path)
    back = read_table(path, text_columns={"account_id"})
    assert back["account_id"].tolist() == ["00123", "7"]


def test_write_table_replaces_file_with_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("old\n")
    write_table(pd.DataFrame({"a": [1, 2]}), path)
    assert path.read_text() == "a\n1\n2\n"
    assert sorted(os.listdir(tmp_path)) == ["plan.csv"]
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_failed_writer_leaves_every_target_unchanged(tmp_path: Path) -> None:
    first = tmp_path / "plan.csv"
    second = tmp_path / "plan_scorecard.json"
    first.write_text("old plan\n")
    second.write_text("old card\n")

    def broken(target: Path) -> None:
        target.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_files_atomic({first: lambda target: target.write_text("new plan\n"), second: broken})
    assert first.read_text() == "old plan\n"
    assert second.read_text() == "old card\n"
    assert sorted(os.listdir(tmp_path)) == ["plan.csv", "plan_scorecard.json"]


def test_check_output_path(tmp_path: Path) -> None:
    accounts = _write(tmp_path, "accounts.csv", "a\n1\n")
    with pytest.raises(InputError, match="also an input"):
        check_output_path(accounts, inputs=[accounts])
    with pytest.raises(InputError, match=r"unsupported extension '\.json'"):
        check_output_path(tmp_path / "plan.json")
    with pytest.raises(InputError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "plan.csv")
    assert check_output_path(tmp_path / "plan.csv", inputs=[accounts]) == tmp_path / "plan.csv"


def test_read_table_warns_only_for_bad_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, "accounts.csv", "account_id,name\nA1,Zürich AG\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(path)["name"].tolist() == ["Zürich AG"]


def test_whole_float_ids_and_owners_read_as_integers() -> None:
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "owner": [7.0, np.nan, 8.0], "x": [1.5, 2, 3]})
    assert account_ids(frame, "id").tolist() == ["1", "2", "3"]
    assert text_values(frame, "owner", "owner").tolist() == ["7", None, "8"]
    assert text_values(frame, "x", "x").tolist() == ["1.5", "2.0", "3.0"]


number_like = st.lists(
    st.sampled_from(list("0123456789") * 4 + [",", ".", " ", "-", "+", "$", "€", "e", "(", ")"]),
    min_size=1,
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(number_like, min_size=1, max_size=20), st.sampled_from([".", ","]))
def test_parse_numbers_fast_path_matches_cells(cells: list[str], decimal: str) -> None:
    # parse_numbers reads plain cells with pandas; each result must equal parse_cell's.
    parsed = parse_numbers(pd.Series(cells, dtype="str"), decimal)
    for row, cell in enumerate(cells):
        try:
            value, currency = parse_cell(cell, decimal)
        except ValueError:
            assert parsed.invalid[row], cell
            continue
        assert not parsed.invalid[row], cell
        assert parsed.currency[row] == currency
        if math.isnan(value):
            assert math.isnan(parsed.values[row]), cell
        else:
            assert parsed.values[row] == value, cell
