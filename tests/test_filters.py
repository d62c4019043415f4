"""Tests for parsing and evaluating `where` filters."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartplan.errors import FilterError
from smartplan.filters import (
    MAX_DEPTH,
    And,
    Column,
    Comparison,
    Constant,
    Filter,
    Membership,
    Not,
    NullCheck,
    Or,
    parse_filter,
)


def make_frame() -> pd.DataFrame:
    """Return the six-row table that the expected masks below were checked against by hand."""
    return pd.DataFrame(
        {
            # A, B, null, A, null (empty string), C
            "tier": pd.Series(["A", "B", None, "A", "", "C"], dtype=object),
            "region": pd.Series(["east", "west", "east", "north", "west", "east"], dtype="string"),
            "revenue": [10.0, 250.5, np.nan, 1e6, 0.0, -3.5],
            "budget": [20.0, 100.0, 1.0, np.nan, 0.0, -5.0],
            "employees": [5, 50, 500, 7, 0, 12],
            "active": [True, False, True, False, True, False],
            "segment_code": pd.array([1, None, 3, 1, 2, None], dtype="Int64"),
            "Annual Revenue": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
            "num. of employees": [1, 2, 3, 4, 5, 6],
            "owner.id": [10, 20, 30, 40, 50, 60],
        }
    )


def mask(bits: str) -> np.ndarray:
    """Turn a string such as "1001" into a boolean array."""
    return np.array([bit == "1" for bit in bits], dtype=bool)


VALID_CASES = [
    ("string_equal", 'tier == "A"', "100100"),
    ("string_not_equal_skips_null", 'tier != "A"', "010001"),
    ("literal_on_left", '"A" == tier', "100100"),
    ("single_quotes", "region == 'east'", "101001"),
    ("string_dtype_ordering", 'region >= "north"', "010110"),
    ("float_greater", "revenue > 100", "010100"),
    ("float_greater_equal", "revenue >= 0", "110110"),
    ("float_less", "revenue < 0", "000001"),
    ("float_less_equal", "revenue <= 10", "100011"),
    ("float_not_equal_skips_nan", "revenue != 0", "110101"),
    ("swapped_operator", "100 < revenue", "010100"),
    ("negative_literal", "revenue > -1", "110110"),
    ("negative_literal_on_left", "-5 < budget", "111010"),
    ("scientific_literal", "revenue < 1e3", "110011"),
    ("scientific_upper_case", "revenue == 1E6", "000100"),
    ("scientific_fraction", "revenue >= 2.5e2", "010100"),
    ("leading_dot_literal", "revenue <= .5", "000011"),
    ("int_greater", "employees > 10", "011001"),
    ("int_equal_float_literal", "employees == 7.0", "000100"),
    ("int_less_fraction", "employees < 7.5", "100110"),
    ("int_in", "employees in [5, 12]", "100001"),
    ("int_not_in", "employees not in [5, 12]", "011110"),
    ("int_in_fraction", "employees in [5.5, 7.0]", "000100"),
    ("in_empty_list", "employees in []", "000000"),
    ("not_in_empty_list", "employees not in []", "111111"),
    ("string_in", 'tier in ["A", "C"]', "100101"),
    ("string_not_in_skips_null", 'tier not in ["A"]', "010001"),
    ("is_null_counts_empty_string", "tier is null", "001010"),
    ("is_not_null", "tier is not null", "110101"),
    ("float_is_null", "revenue is null", "001000"),
    ("nullable_int_is_null", "segment_code is null", "010001"),
    ("nullable_int_greater", "segment_code > 1", "001010"),
    ("nullable_int_not_equal", "segment_code != 1", "001010"),
    ("bool_equal_true", "active == true", "101010"),
    ("bool_upper_case_literal", "active != TRUE", "010101"),
    ("bool_literal_on_left", "false == active", "010101"),
    ("bool_in", "active in [true]", "101010"),
    ("backtick_name_with_space", "`Annual Revenue` >= 300", "001111"),
    ("backtick_name_with_dot", "`num. of employees` < 3", "110000"),
    ("dotted_identifier", "owner.id == 30", "001000"),
    ("column_greater_column", "revenue > budget", "010001"),
    ("column_not_equal_skips_nan", "revenue != budget", "110001"),
    ("int_column_greater_int_column", "employees > owner.id", "011000"),
    ("not_includes_null", "not (revenue > 100)", "101011"),
    ("not_binds_looser_than_comparison", 'not tier == "A"', "011011"),
    ("double_not", "not not revenue > 100", "010100"),
    ("and", 'tier == "A" and employees > 6', "000100"),
    ("or", 'tier == "A" or active == true', "101110"),
    ("and_before_or", 'tier == "A" or tier == "B" and employees > 100', "100100"),
    ("parentheses_override", '(tier == "A" or tier == "B") and employees > 100', "000000"),
    ("not_before_and", 'not active == true and tier == "A"', "000100"),
    ("not_of_parentheses", 'not (active == true and tier == "A")', "011111"),
    ("redundant_parentheses", "((revenue > 100))", "010100"),
    ("no_spaces", 'revenue>100 and(tier=="A")', "000100"),
    ("keywords_any_case", "tier IS NOT NULL And active == True", "100000"),
    ("not_in_mixed_case", 'tier Not In ["B"]', "100101"),
    ("chain_of_or", 'tier == "A" or tier == "B" or tier == "C"', "110101"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case_id) for case_id, text, expected in VALID_CASES],
)
def test_evaluate_matches_hand_checked_mask(text: str, expected: str) -> None:
    result = Filter.parse(text).evaluate(make_frame())

    assert result.tolist() == mask(expected).tolist()


def test_evaluate_returns_bool_array_of_frame_length() -> None:
    result = Filter.parse("revenue > 0").evaluate(make_frame())

    assert isinstance(result, np.ndarray)
    assert result.dtype == np.bool_
    assert result.shape == (6,)


def test_evaluate_empty_frame() -> None:
    frame = make_frame().iloc[:0]

    result = Filter.parse('revenue > 0 and tier == "A"').evaluate(frame)

    assert result.shape == (0,)
    assert result.dtype == np.bool_


def test_evaluate_ignores_index_labels() -> None:
    frame = make_frame()
    frame.index = [7, 7, 3, 0, -1, 7]

    result = Filter.parse("revenue > budget").evaluate(frame)

    assert result.tolist() == mask("010001").tolist()


# Parsing ------------------------------------------------------------------------------------


def test_parse_moves_literal_to_right() -> None:
    root = Filter.parse("5 < x").root

    assert root == Comparison(Column("x"), ">", Constant(5))


def test_parse_precedence_tree() -> None:
    root = Filter.parse("a == 1 or not b == 2 and c is null").root

    expected = Or(
        (
            Comparison(Column("a"), "==", Constant(1)),
            And((Not(Comparison(Column("b"), "==", Constant(2))), NullCheck(Column("c")))),
        )
    )
    assert root == expected


def test_parse_flattens_chains() -> None:
    root = Filter.parse("a == 1 and b == 2 and c == 3").root

    assert isinstance(root, And)
    assert len(root.operands) == 3


def test_parse_literal_types() -> None:
    root = Filter.parse("a in [1, 2.5, -3e2, \"x\", 'y', true, FALSE]").root

    assert root == Membership(Column("a"), (1, 2.5, -300.0, "x", "y", True, False))
    assert isinstance(root, Membership)
    assert type(root.values[0]) is int
    assert type(root.values[5]) is bool


def test_parse_not_in_and_is_not_null() -> None:
    assert Filter.parse("a not in [1]").root == Membership(Column("a"), (1,), negated=True)
    assert Filter.parse("a is not null").root == NullCheck(Column("a"), negated=True)


def test_parse_string_escapes() -> None:
    root = Filter.parse(r'a == "say \"hi\" \\ it\'s"').root

    assert root == Comparison(Column("a"), "==", Constant('say "hi" \\ it\'s'))


def test_parse_backtick_escape() -> None:
    root = Filter.parse(r"`odd\`name` == 1").root

    assert root == Comparison(Column("odd`name"), "==", Constant(1))


def test_parse_keyword_as_backtick_name() -> None:
    root = Filter.parse("`and` == 1").root

    assert root == Comparison(Column("and"), "==", Constant(1))


def test_parse_records_column_position() -> None:
    root = Filter.parse("a == 1 and `b c` > 2").root

    assert isinstance(root, And)
    second = root.operands[1]
    assert isinstance(second, Comparison)
    assert second.column.position == 11


def test_parse_accepts_unicode_whitespace() -> None:
    root = Filter.parse("a\u00a0==\t1\n").root

    assert root == Comparison(Column("a"), "==", Constant(1))


def test_parse_long_or_chain() -> None:
    text = " or ".join(f"a == {i}" for i in range(5000))

    root = Filter.parse(text).root

    assert isinstance(root, Or)
    assert len(root.operands) == 5000


def test_parse_maximum_depth() -> None:
    text = "(" * MAX_DEPTH + "a == 1" + ")" * MAX_DEPTH

    root = Filter.parse(text).root

    assert root == Comparison(Column("a"), "==", Constant(1))


def test_columns_lists_referenced_names() -> None:
    text = 'tier == "A" or not (`Annual Revenue` > budget) and x in [1] or y is null'

    assert Filter.parse(text).columns() == frozenset({"tier", "Annual Revenue", "budget", "x", "y"})


def test_str_returns_text() -> None:
    text = 'tier  ==  "A"'

    assert str(Filter.parse(text)) == text


def test_parse_filter_matches_classmethod() -> None:
    assert parse_filter("a > 1") == Filter.parse("a > 1")


def test_filter_is_frozen() -> None:
    parsed = Filter.parse("a > 1")

    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.text = "b > 1"  # type: ignore[misc]


# Invalid filters ----------------------------------------------------------------------------

INVALID_CASES = [
    ("single_equals", 'tier = "A"', 5),
    ("empty", "", 0),
    ("whitespace_only", "   ", 0),
    ("missing_right_operand", "tier ==", 7),
    ("missing_left_operand", "== 5", 0),
    ("two_literals", "1 == 2", 0),
    ("compare_with_null", "tier == null", 8),
    ("null_as_predicate", "null == tier", 0),
    ("null_in_list", 'tier in ["A", null]', 14),
    ("unterminated_string", 'tier == "A', 8),
    ("unterminated_backtick", "`abc == 1", 0),
    ("empty_backtick", "`` == 1", 0),
    ("unknown_escape", r'tier == "a\n"', 10),
    ("unclosed_parenthesis", '(tier == "A"', 12),
    ("unmatched_parenthesis", 'tier == "A")', 11),
    ("in_without_list", 'tier in "A"', 8),
    ("unclosed_list", 'tier in ["A"', 12),
    ("list_missing_comma", 'tier in ["A" "B"]', 13),
    ("list_trailing_comma", "a in [1,]", 8),
    ("list_of_columns", "a in [b]", 6),
    ("is_without_null", 'tier is "A"', 8),
    ("is_not_without_null", "tier is not 1", 12),
    ("not_without_in", 'tier not ["A"]', 9),
    ("double_ampersand", "a == 1 && b == 2", 7),
    ("pipe", "a == 1 | b == 2", 7),
    ("bang_alone", "a ! 1", 2),
    ("dangling_and", "a == 1 and", 10),
    ("leading_and", "and a == 1", 0),
    ("bare_column", "active", 6),
    ("bare_column_before_and", "active and a == 1", 7),
    ("unquoted_name_with_space", "Annual Revenue > 5", 7),
    ("number_then_letters", "a == 1abc", 5),
    ("number_with_two_dots", "a == 1.2.3", 5),
    ("semicolon", "a == 1; b", 6),
    ("non_ascii_name", "\u00e9 == 1", 0),
    ("minus_alone", "a == - 1", 5),
    ("arithmetic", "a + 1 == 2", 2),
    ("literal_before_in", '"A" in [1]', 4),
    ("literal_before_is", "1 is null", 2),
    ("compare_with_list", "a == [1]", 5),
    ("chained_comparison", "a < b < c", 6),
    ("keyword_as_operand", "a == and", 5),
    ("too_many_parentheses", "(" * (MAX_DEPTH + 1) + "a == 1" + ")" * (MAX_DEPTH + 1), MAX_DEPTH),
    ("too_many_nots", "not " * (MAX_DEPTH + 1) + "a == 1", 4 * MAX_DEPTH),
    ("integer_too_long", "a == " + "9" * 5000, 5),
]


@pytest.mark.parametrize(
    ("text", "position"),
    [pytest.param(text, position, id=case_id) for case_id, text, position in INVALID_CASES],
)
def test_parse_rejects_invalid_filter(text: str, position: int) -> None:
    with pytest.raises(FilterError) as raised:
        Filter.parse(text)

    message = str(raised.value)
    assert message.startswith("invalid filter ")
    assert f"at position {position}:" in message


def test_single_equals_message() -> None:
    with pytest.raises(FilterError) as raised:
        Filter.parse('tier = "A"')

    assert str(raised.value) == (
        "invalid filter 'tier = \"A\"' at position 5: found '=', expected a comparison operator "
        "(==, !=, <, <=, >, >=), 'in' or 'is'. Use == to compare."
    )


def test_unclosed_parenthesis_message_names_opening() -> None:
    with pytest.raises(FilterError, match=r"Close the '\(' at position 10"):
        Filter.parse("a > 1 and (b < 2")


def test_bare_column_message_suggests_comparison() -> None:
    with pytest.raises(FilterError, match="active == true"):
        Filter.parse("active")


def test_space_in_name_message_suggests_backticks() -> None:
    with pytest.raises(FilterError, match="backticks"):
        Filter.parse("Annual Revenue > 5")


def test_parse_rejects_non_string() -> None:
    with pytest.raises(FilterError, match="expected a string, got int"):
        Filter.parse(5)  # type: ignore[arg-type]


def test_unprintable_text_is_escaped_in_message() -> None:
    with pytest.raises(FilterError) as raised:
        Filter.parse("a == \x00")

    assert "\x00" not in str(raised.value)
    assert "\\x00" in str(raised.value)


EVALUATION_ERROR_CASES = [
    ("missing_column", 'tierr == "A"', ["column 'tierr' not found", "'tier'", "backticks"]),
    ("missing_backtick_column", "`Annual revenue` > 1", ["'Annual Revenue'", "position 0"]),
    ("missing_second_column", "revenue > budgett", ["'budgett'", "position 10", "'budget'"]),
    ("string_column_number", "tier == 5", ["'tier'", "dtype object", "the number 5"]),
    ("string_dtype_number", "region < 5", ["'region'", "dtype string", "the number 5"]),
    ("number_column_string", 'revenue > "100"', ["'revenue'", "float64", "the string '100'"]),
    ("int_column_bool", "employees == true", ["'employees'", "int64", "the boolean true"]),
    ("bool_column_number", "active == 1", ["'active'", "dtype bool", "the number 1"]),
    ("bool_ordering", "active > false", ["'active'", "'>'", "=="]),
    ("list_mixed_kinds", 'employees in [1, "a"]', ["'employees'", "the string 'a'"]),
    ("columns_of_two_kinds", "tier == revenue", ["'tier'", "'revenue'", "float64"]),
    ("bool_columns_ordering", "active < active", ["'active'", "'<'"]),
]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param(text, fragments, id=case_id)
        for case_id, text, fragments in EVALUATION_ERROR_CASES
    ],
)
def test_evaluate_rejects_invalid_comparison(text: str, fragments: list[str]) -> None:
    parsed = Filter.parse(text)

    with pytest.raises(FilterError) as raised:
        parsed.evaluate(make_frame())

    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message


def test_evaluate_rejects_duplicate_column() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])

    with pytest.raises(FilterError, match="column 'a' appears 2 times"):
        Filter.parse("a > 0").evaluate(frame)


def test_evaluate_rejects_mixed_object_column() -> None:
    frame = pd.DataFrame({"mixed": pd.Series(["a", 1, None], dtype=object)})

    with pytest.raises(FilterError, match="'mixed' has dtype object with mixed kinds"):
        Filter.parse('mixed == "a"').evaluate(frame)


def test_evaluate_rejects_datetime_comparison() -> None:
    frame = pd.DataFrame({"signed": pd.Series([pd.Timestamp("2024-01-01"), pd.NaT])})

    with pytest.raises(FilterError, match="'signed' has dtype datetime64"):
        Filter.parse("signed > 5").evaluate(frame)


def test_missing_column_without_close_match_lists_columns() -> None:
    with pytest.raises(FilterError, match=r"No column has a similar name\. The table has 'tier'"):
        Filter.parse("zzz == 1").evaluate(make_frame())


# Nulls and dtypes ---------------------------------------------------------------------------


def test_datetime_column_is_null() -> None:
    frame = pd.DataFrame({"signed": pd.Series([pd.Timestamp("2024-01-01"), pd.NaT])})

    result = Filter.parse("signed is null").evaluate(frame)

    assert result.tolist() == [False, True]


def test_all_null_object_column_compares_false() -> None:
    frame = pd.DataFrame({"notes": pd.Series([None, "", np.nan], dtype=object)})

    for text in ['notes == "a"', "notes > 5", "notes != true", "notes in [1, 'a']"]:
        assert not Filter.parse(text).evaluate(frame).any(), text


def test_all_null_object_column_negation_is_true() -> None:
    frame = pd.DataFrame({"notes": pd.Series([None, ""], dtype=object)})

    result = Filter.parse('not notes == "a"').evaluate(frame)

    assert result.tolist() == [True, True]


def test_object_numbers_compare_as_numbers() -> None:
    frame = pd.DataFrame({"count": pd.Series([1, 2.5, None, ""], dtype=object)})

    result = Filter.parse("count >= 2").evaluate(frame)

    assert result.tolist() == [False, True, False, False]


def test_object_booleans_compare_as_booleans() -> None:
    frame = pd.DataFrame({"flag": pd.Series([True, None, False], dtype=object)})

    result = Filter.parse("flag == false").evaluate(frame)

    assert result.tolist() == [False, False, True]


def test_nullable_boolean_column() -> None:
    frame = pd.DataFrame({"flag": pd.array([True, None, False], dtype="boolean")})

    assert Filter.parse("flag != true").evaluate(frame).tolist() == [False, False, True]
    assert Filter.parse("flag is null").evaluate(frame).tolist() == [False, True, False]


def test_categorical_column() -> None:
    frame = pd.DataFrame({"tier": pd.Categorical(["A", None, "B", "A"])})

    result = Filter.parse('tier in ["A"]').evaluate(frame)

    assert result.tolist() == [True, False, False, True]


def test_pyarrow_string_column() -> None:
    frame = pd.DataFrame({"tier": pd.Series(["A", None, ""], dtype="string[pyarrow]")})

    assert Filter.parse('tier == "A"').evaluate(frame).tolist() == [True, False, False]
    assert Filter.parse("tier is null").evaluate(frame).tolist() == [False, True, True]


def test_uint_column_negative_literal() -> None:
    frame = pd.DataFrame({"count": np.array([0, 5], dtype=np.uint8)})

    assert Filter.parse("count > -1").evaluate(frame).tolist() == [True, True]
    assert Filter.parse("count == -1").evaluate(frame).tolist() == [False, False]


def test_integer_beyond_float_range() -> None:
    huge = "1" + "0" * 400

    result = Filter.parse(f"revenue < {huge}").evaluate(make_frame())

    assert result.tolist() == mask("110111").tolist()


def test_integer_beyond_int64_in_list() -> None:
    result = Filter.parse(f"employees in [{2**70}, 5]").evaluate(make_frame())

    assert result.tolist() == mask("100000").tolist()


def test_string_escapes_match_cells() -> None:
    frame = pd.DataFrame({"name": pd.Series(['say "hi"', "it's", "a\\b"], dtype=object)})

    assert Filter.parse(r'name == "say \"hi\""').evaluate(frame).tolist() == [True, False, False]
    assert Filter.parse(r"name == 'it\'s'").evaluate(frame).tolist() == [False, True, False]
    assert Filter.parse(r'name == "a\\b"').evaluate(frame).tolist() == [False, False, True]


def test_backtick_name_with_symbols() -> None:
    frame = pd.DataFrame({"Revenue ($, 2024)": [1.0, 5.0], "odd`name": [1, 2]})

    assert Filter.parse("`Revenue ($, 2024)` > 2").evaluate(frame).tolist() == [False, True]
    assert Filter.parse(r"`odd\`name` == 1").evaluate(frame).tolist() == [True, False]


def test_column_compared_with_itself_skips_null() -> None:
    result = Filter.parse("revenue == revenue").evaluate(make_frame())

    assert result.tolist() == mask("110111").tolist()


# Property tests -----------------------------------------------------------------------------

GRAMMAR_TOKENS = [
    "tier",
    "revenue",
    "active",
    "employees",
    "`Annual Revenue`",
    "owner.id",
    "missing",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "and",
    "OR",
    "not",
    "in",
    "is",
    "null",
    "true",
    "False",
    "(",
    ")",
    "[",
    "]",
    ",",
    "1",
    "-2.5e3",
    ".5",
    '"A"',
    "'b'",
    '"',
    "'",
    "`",
    "\\",
    "!",
    "&",
    "-",
    "1e",
]


@given(st.text())
def test_parse_any_text_returns_filter_or_raises(text: str) -> None:
    try:
        parsed = Filter.parse(text)
    except FilterError:
        return
    assert str(parsed) == text


@settings(deadline=None)
@given(
    st.lists(st.sampled_from(GRAMMAR_TOKENS), max_size=12),
    st.sampled_from([" ", ""]),
)
def test_parse_token_soup_returns_filter_or_raises(tokens: list[str], separator: str) -> None:
    text = separator.join(tokens)
    try:
        parsed = Filter.parse(text)
    except FilterError:
        return

    assert parsed.columns()
    try:
        result = parsed.evaluate(make_frame())
    except FilterError:
        return
    assert result.dtype == np.bool_
    assert result.shape == (6,)


Reference = Callable[[dict[str, np.ndarray]], np.ndarray]

# Operator precedence of generated expressions, from loosest to tightest.
OR_LEVEL, AND_LEVEL, NOT_LEVEL, ATOM_LEVEL = 1, 2, 3, 4

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Expression:
    """Generated filter text, its precedence level and a numpy reference for its mask."""

    text: str
    level: int
    reference: Reference


def is_present(values: np.ndarray) -> np.ndarray:
    """Return true where a generated cell is not null."""
    if values.dtype == object:
        return np.array([value is not None and value != "" for value in values], dtype=bool)
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    return np.ones(len(values), dtype=bool)


def apply_operator(symbol: str, left: object, right: object) -> np.ndarray:
    """Apply a comparison elementwise; object arrays are compared cell by cell."""
    function = OPERATORS[symbol]
    if isinstance(left, np.ndarray) and left.dtype == object:
        cells = [bool(function(cell, right)) if cell is not None else False for cell in left]
        return np.array(cells, dtype=bool)
    return np.asarray(function(left, right), dtype=bool)


NUMBER_COLUMNS = ["a", "b", "k"]
NUMBER_LITERALS = st.one_of(st.integers(-4, 4), st.sampled_from([-1.5, 0.5, 2.0]))
STRING_LITERALS = st.sampled_from(["x", "y", "z", "w"])


@st.composite
def number_comparisons(draw: st.DrawFn) -> Expression:
    column = draw(st.sampled_from(NUMBER_COLUMNS))
    symbol = draw(st.sampled_from(list(OPERATORS)))
    value = draw(NUMBER_LITERALS)
    if draw(st.booleans()):
        text = f"{column} {symbol} {value!r}"

        def reference(data: dict[str, np.ndarray]) -> np.ndarray:
            values = data[column]
            return apply_operator(symbol, values, value) & is_present(values)
    else:
        text = f"{value!r} {symbol} {column}"

        def reference(data: dict[str, np.ndarray]) -> np.ndarray:
            values = data[column]
            return np.asarray(OPERATORS[symbol](value, values), dtype=bool) & is_present(values)

    return Expression(text, ATOM_LEVEL, reference)


@st.composite
def column_comparisons(draw: st.DrawFn) -> Expression:
    left = draw(st.sampled_from(NUMBER_COLUMNS))
    right = draw(st.sampled_from(NUMBER_COLUMNS))
    symbol = draw(st.sampled_from(list(OPERATORS)))

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        compared = apply_operator(symbol, data[left], data[right])
        return compared & is_present(data[left]) & is_present(data[right])

    return Expression(f"{left} {symbol} {right}", ATOM_LEVEL, reference)


@st.composite
def string_comparisons(draw: st.DrawFn) -> Expression:
    symbol = draw(st.sampled_from(list(OPERATORS)))
    value = draw(STRING_LITERALS)

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        values = data["s"]
        present = is_present(values)
        filled = values.copy()
        filled[~present] = None
        return apply_operator(symbol, filled, value) & present

    return Expression(f's {symbol} "{value}"', ATOM_LEVEL, reference)


@st.composite
def memberships(draw: st.DrawFn) -> Expression:
    negated = draw(st.booleans())
    if draw(st.booleans()):
        column = draw(st.sampled_from(NUMBER_COLUMNS))
        values: list[object] = draw(st.lists(NUMBER_LITERALS, max_size=4))
    else:
        column = "s"
        values = draw(st.lists(STRING_LITERALS, max_size=4))
    listed = ", ".join(repr(value) for value in values)
    keyword = "not in" if negated else "in"

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        cells = data[column]
        present = is_present(cells)
        found = np.array([present[i] and cells[i] in values for i in range(len(cells))])
        found = found.astype(bool)
        if negated:
            return ~found & present
        return found

    return Expression(f"{column} {keyword} [{listed}]", ATOM_LEVEL, reference)


@st.composite
def null_checks(draw: st.DrawFn) -> Expression:
    column = draw(st.sampled_from([*NUMBER_COLUMNS, "s", "f"]))
    negated = draw(st.booleans())
    keyword = draw(st.sampled_from(["is not null", "IS NOT NULL"] if negated else ["is null"]))

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        present = is_present(data[column])
        return present if negated else ~present

    return Expression(f"{column} {keyword}", ATOM_LEVEL, reference)


@st.composite
def boolean_comparisons(draw: st.DrawFn) -> Expression:
    symbol = draw(st.sampled_from(["==", "!="]))
    value = draw(st.booleans())

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(OPERATORS[symbol](data["f"], value), dtype=bool)

    return Expression(f"f {symbol} {str(value).lower()}", ATOM_LEVEL, reference)


def wrap(expression: Expression, minimum_level: int, force: bool) -> str:
    """Return the expression's text, in parentheses if its level is below ``minimum_level``."""
    if force or expression.level < minimum_level:
        return f"({expression.text})"
    return expression.text


@st.composite
def negations(draw: st.DrawFn, children: st.SearchStrategy[Expression]) -> Expression:
    child = draw(children)
    keyword = draw(st.sampled_from(["not", "NOT"]))
    text = f"{keyword} {wrap(child, NOT_LEVEL, draw(st.booleans()))}"
    return Expression(text, NOT_LEVEL, lambda data: ~child.reference(data))


@st.composite
def conjunctions(draw: st.DrawFn, children: st.SearchStrategy[Expression]) -> Expression:
    operands = draw(st.lists(children, min_size=2, max_size=3))
    keyword = draw(st.sampled_from(["and", "AND"]))
    texts = [wrap(operand, AND_LEVEL, draw(st.booleans())) for operand in operands]

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        return np.logical_and.reduce([operand.reference(data) for operand in operands])

    return Expression(f" {keyword} ".join(texts), AND_LEVEL, reference)


@st.composite
def disjunctions(draw: st.DrawFn, children: st.SearchStrategy[Expression]) -> Expression:
    operands = draw(st.lists(children, min_size=2, max_size=3))
    keyword = draw(st.sampled_from(["or", "Or"]))
    texts = [wrap(operand, OR_LEVEL, draw(st.booleans())) for operand in operands]

    def reference(data: dict[str, np.ndarray]) -> np.ndarray:
        return np.logical_or.reduce([operand.reference(data) for operand in operands])

    return Expression(f" {keyword} ".join(texts), OR_LEVEL, reference)


EXPRESSIONS = st.recursive(
    st.one_of(
        number_comparisons(),
        column_comparisons(),
        string_comparisons(),
        memberships(),
        null_checks(),
        boolean_comparisons(),
    ),
    lambda children: st.one_of(negations(children), conjunctions(children), disjunctions(children)),
    max_leaves=12,
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Draw columns a, b (float with NaN), k (int64), s (strings with nulls) and f (bool)."""
    rows = draw(st.integers(0, 12))

    def floats() -> np.ndarray:
        cells = draw(
            st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=rows, max_size=rows)
        )
        return np.array([np.nan if cell is None else float(cell) for cell in cells])

    data = {
        "a": floats(),
        "b": floats(),
        "k": np.array(
            draw(st.lists(st.integers(-3, 3), min_size=rows, max_size=rows)), dtype=np.int64
        ),
        "s": np.array(
            draw(
                st.lists(st.sampled_from(["x", "y", "z", None, ""]), min_size=rows, max_size=rows)
            ),
            dtype=object,
        ),
        "f": np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool),
    }
    string_dtype = draw(st.sampled_from(["object", "string", "str"]))
    frame = pd.DataFrame(
        {
            "a": data["a"],
            "b": data["b"],
            "k": data["k"],
            "s": pd.Series(data["s"], dtype=string_dtype),
            "f": data["f"],
        }
    )
    return data, frame


@settings(deadline=None, max_examples=200)
@given(EXPRESSIONS, tables())
def test_evaluate_matches_numpy_reference(
    expression: Expression, table: tuple[dict[str, np.ndarray], pd.DataFrame]
) -> None:
    data, frame = table

    result = Filter.parse(expression.text).evaluate(frame)

    expected = np.asarray(expression.reference(data), dtype=bool)
    assert result.tolist() == expected.tolist(), expression.text
