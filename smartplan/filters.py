r"""Parse and evaluate `where` filters that select rows of an accounts table.

A filter is a small boolean expression over columns and literals, for example
``tier == "A" and `Annual Revenue` >= 1e6``. A hand-written tokenizer and recursive-descent
parser build the syntax tree, so a filter never reaches eval, exec or DataFrame.query and
cannot run code.

Grammar, lowest precedence first. Keywords are case-insensitive::

    filter     := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | predicate
    predicate  := "(" or_expr ")"
                | operand ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
                | column ["not"] "in" "[" [literal ("," literal)*] "]"
                | column "is" ["not"] "null"
    operand    := column | literal
    column     := [A-Za-z_][A-Za-z0-9_.]* | `any name`
    literal    := number | "string" | 'string' | true | false

A comparison needs a column on at least one side. Numbers may have a leading minus and an
exponent, e.g. -1.5e3. Inside strings, a backslash escapes \\, \" and \'. Inside backtick
names, it escapes \\ and \`.

Null cells are NaN, None, pd.NA, NaT and empty strings, so ``x == ""`` matches no row.
Every comparison and membership test with a null cell is false, including ``!=`` and
``not in``. So ``x != 5`` excludes rows where x is null, unlike pandas, where NaN != 5 is true.
``not (x > 5)`` is true where x is null.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as pdtypes

from smartplan.errors import FilterError

__all__ = [
    "MAX_DEPTH",
    "And",
    "Column",
    "Comparison",
    "Constant",
    "Filter",
    "Membership",
    "Node",
    "Not",
    "NullCheck",
    "Or",
    "parse_filter",
]

MAX_DEPTH = 100
"""Maximum nesting of parentheses and ``not``. Each level of parentheses costs the parser five
stack frames, so parsing stays well below Python's default recursion limit of 1000."""

LiteralValue = bool | int | float | str

_ORDERING_OPERATORS = frozenset({"<", "<=", ">", ">="})

# The operator that gives the same result when the operands swap sides: 5 < x is x > 5.
_SWAPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

_OPERATOR_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_IDENTIFIER_TAIL = re.compile(r"[A-Za-z0-9_.]*")

_MAX_QUOTED_TEXT = 200
_OPERATOR_EXPECTED = "a comparison operator (==, !=, <, <=, >, >=), 'in' or 'is'"
_BACKTICK_HINT = "Put names that contain spaces or symbols in backticks, e.g. `Annual Revenue`."


# Syntax tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """Reference to a column by name. ``position`` is its offset in the filter text."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Constant:
    """Literal number, string or boolean."""

    value: LiteralValue


@dataclass(frozen=True)
class Comparison:
    """Comparison of a column with a literal or with a second column.

    The parser moves a literal on the left to the right and swaps the operator, so
    ``5 < x`` becomes ``Comparison(Column("x"), ">", Constant(5))``.
    """

    column: Column
    operator: str
    operand: Column | Constant


@dataclass(frozen=True)
class Membership:
    """Test ``column in [values]``, or ``column not in [values]`` when ``negated``."""

    column: Column
    values: tuple[LiteralValue, ...]
    negated: bool = False


@dataclass(frozen=True)
class NullCheck:
    """Test ``column is null``, or ``column is not null`` when ``negated``."""

    column: Column
    negated: bool = False


@dataclass(frozen=True)
class Not:
    """Logical negation."""

    operand: Node


@dataclass(frozen=True)
class And:
    """Conjunction of two or more operands. A chain ``a and b and c`` is one node."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more operands. A chain ``a or b or c`` is one node."""

    operands: tuple[Node, ...]


Node = Comparison | Membership | NullCheck | Not | And | Or


@dataclass(frozen=True)
class Filter:
    """Parsed `where` filter: the source text and the root of its syntax tree."""

    text: str
    root: Node

    @classmethod
    def parse(cls, text: str) -> Filter:
        """Parse ``text`` into a filter.

        Raises
        ------
        FilterError
            If the text is empty, not a string or does not match the grammar. The message
            names the position, the text found there, the text expected and the fix.
        """
        if not isinstance(text, str):
            raise FilterError(
                f"invalid filter {text!r}: expected a string, got {type(text).__name__}. "
                "Write the filter as text, e.g. \"tier == 'A'\"."
            )
        if not text.strip():
            raise FilterError(
                f"invalid filter {_quote(text)} at position 0: the filter is empty, expected "
                'an expression such as tier == "A". Remove the empty filter or write one.'
            )
        tokens = _tokenize(text)
        return cls(text=text, root=_Parser(text, tokens).parse())

    def columns(self) -> frozenset[str]:
        """Return the names of all columns that the filter references."""
        names: set[str] = set()
        pending: list[Node] = [self.root]
        while pending:
            node = pending.pop()
            if isinstance(node, Comparison):
                names.add(node.column.name)
                if isinstance(node.operand, Column):
                    names.add(node.operand.name)
            elif isinstance(node, Membership | NullCheck):
                names.add(node.column.name)
            elif isinstance(node, Not):
                pending.append(node.operand)
            else:
                pending.extend(node.operands)
        return frozenset(names)

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """Return a boolean array of ``len(frame)`` that is true for the rows the filter keeps.

        Raises
        ------
        FilterError
            If a referenced column is missing or duplicated, or if a comparison mixes kinds
            of values, e.g. a string column with a number.
        """
        return _Evaluator(self.text, frame).evaluate(self.root)

    def __str__(self) -> str:
        return self.text


def parse_filter(text: str) -> Filter:
    """Parse ``text`` into a :class:`Filter`, like :meth:`Filter.parse`."""
    return Filter.parse(text)


# Messages ------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """Quote ``text`` for a message, falling back to repr for unprintable characters."""
    if len(text) > _MAX_QUOTED_TEXT:
        prefix = _quote(text[:_MAX_QUOTED_TEXT])
        return f"{prefix}... ({len(text)} characters)"
    if not text.isprintable():
        return repr(text)
    if "'" in text and '"' not in text:
        return f'"{text}"'
    return f"'{text}'"


def _syntax_error(
    text: str, position: int, found: str, expected: str, fix: str = ""
) -> FilterError:
    message = (
        f"invalid filter {_quote(text)} at position {position}: found {found}, expected {expected}."
    )
    if fix:
        message = f"{message} {fix}"
    return FilterError(message)


# Tokenizer -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """Token of the filter text.

    ``kind`` is number, string, boolean, name (a bare or backtick column name), keyword (the
    value is the lowercase keyword), operator, one of the characters ( ) [ ] , or end.
    """

    kind: str
    source: str
    position: int
    value: LiteralValue | None = None

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the filter"
        return _quote(self.source)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue

        two = text[position : position + 2]
        if two in ("==", "!=", "<=", ">="):
            tokens.append(_Token("operator", two, position, two))
            position += 2
            continue
        if char in "<>":
            tokens.append(_Token("operator", char, position, char))
            position += 1
            continue
        if char in "()[],":
            tokens.append(_Token(char, char, position))
            position += 1
            continue
        if char in "\"'`":
            token, position = _read_quoted(text, position)
            tokens.append(token)
            continue

        number = _NUMBER.match(text, position)
        if number is not None:
            tokens.append(_read_number(text, number))
            position = number.end()
            continue

        identifier = _IDENTIFIER.match(text, position)
        if identifier is not None:
            word = identifier.group()
            keyword = word.lower()
            if keyword in ("true", "false"):
                tokens.append(_Token("boolean", word, position, keyword == "true"))
            elif keyword in _KEYWORDS:
                tokens.append(_Token("keyword", word, position, keyword))
            else:
                tokens.append(_Token("name", word, position, word))
            position = identifier.end()
            continue

        raise _unexpected_character(text, position)

    tokens.append(_Token("end", "", length))
    return tokens


def _unexpected_character(text: str, position: int) -> FilterError:
    char = text[position]
    two = text[position : position + 2]
    if char == "=":
        return _syntax_error(text, position, "'='", _OPERATOR_EXPECTED, "Use == to compare.")
    if char == "!":
        return _syntax_error(text, position, "'!'", "'!='", "Use 'not' to negate an expression.")
    if char == "&":
        found = "'&&'" if two == "&&" else "'&'"
        return _syntax_error(text, position, found, "'and'", "Use 'and' to combine conditions.")
    if char == "|":
        found = "'||'" if two == "||" else "'|'"
        return _syntax_error(text, position, found, "'or'", "Use 'or' to combine conditions.")
    if char == "-":
        return _syntax_error(
            text,
            position,
            "'-'",
            "a digit after '-' in a number",
            "Filters have no arithmetic, and a negative number is written -5. " + _BACKTICK_HINT,
        )
    return _syntax_error(
        text,
        position,
        _quote(char),
        "a column name, a literal, an operator or a parenthesis",
        _BACKTICK_HINT,
    )


def _read_number(text: str, match: re.Match[str]) -> _Token:
    source = match.group()
    start = match.start()
    tail = _IDENTIFIER_TAIL.match(text, match.end())
    if tail is not None and tail.group():
        raise _syntax_error(
            text,
            start,
            _quote(source + tail.group()),
            "a number such as 42, -1.5 or 2e6",
            "Put column names that start with a digit in backticks, e.g. `2024 revenue`.",
        )
    value: int | float
    try:
        value = float(source) if any(char in source for char in ".eE") else int(source)
    except ValueError as error:
        # int() rejects integers longer than sys.get_int_max_str_digits() digits.
        raise _syntax_error(
            text, start, f"a number of {len(source)} characters", "a shorter number"
        ) from error
    return _Token("number", source, start, value)


def _read_quoted(text: str, start: int) -> tuple[_Token, int]:
    """Read a string literal or backtick name that starts at ``start``.

    Return the token and the position after the closing quote.
    """
    quote = text[start]
    allowed_escapes = "\\`" if quote == "`" else "\\\"'"
    description = "column name" if quote == "`" else "string"
    characters: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            break
        if char == "\\":
            escaped = text[position + 1 : position + 2]
            if escaped and escaped not in allowed_escapes:
                escapes = ", ".join(f"\\{c}" for c in allowed_escapes)
                raise _syntax_error(
                    text,
                    position,
                    f"the escape \\{escaped}",
                    f"one of the escapes {escapes}",
                    "Write a backslash as \\\\.",
                )
            if escaped:
                characters.append(escaped)
                position += 2
                continue
        characters.append(char)
        position += 1
    else:
        raise _syntax_error(
            text,
            start,
            f"a {description} that starts here and is never closed",
            f"a closing {_quote(quote)}",
            f"Add {_quote(quote)} at the end of the {description}.",
        )

    end = position + 1
    value = "".join(characters)
    source = text[start:end]
    if quote == "`":
        if not value:
            raise _syntax_error(text, start, "an empty backtick name", "a column name")
        return _Token("name", source, start, value), end
    return _Token("string", source, start, value), end


# Parser --------------------------------------------------------------------------------------


_LITERAL_KINDS = frozenset({"number", "string", "boolean"})
_OPERAND_EXPECTED = "a column name or a literal"
_PREDICATE_EXPECTED = "a column name, a literal, 'not' or '('"


class _Parser:
    """Recursive-descent parser over the token list, with one method per grammar rule."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def parse(self) -> Node:
        root = self._parse_or()
        token = self._peek()
        if token.kind != "end":
            fix = "Remove the unmatched ')'." if token.kind == ")" else ""
            raise self._error(token, "'and', 'or' or the end of the filter", fix)
        return root

    # Token helpers.

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _at_keyword(self, keyword: str) -> bool:
        token = self._peek()
        return token.kind == "keyword" and token.value == keyword

    def _error(self, token: _Token, expected: str, fix: str = "") -> FilterError:
        return _syntax_error(self.text, token.position, token.describe(), expected, fix)

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _syntax_error(
                self.text,
                token.position,
                f"more than {MAX_DEPTH} nested parentheses and 'not'",
                f"at most {MAX_DEPTH} levels",
                "Simplify the filter, e.g. replace a long chain of 'or' with 'in [...]'.",
            )

    # Grammar rules.

    def _parse_or(self) -> Node:
        operands = [self._parse_and()]
        while self._at_keyword("or"):
            self._advance()
            operands.append(self._parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _parse_and(self) -> Node:
        operands = [self._parse_not()]
        while self._at_keyword("and"):
            self._advance()
            operands.append(self._parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _parse_not(self) -> Node:
        if not self._at_keyword("not"):
            return self._parse_predicate()
        token = self._advance()
        self._enter(token)
        operand = self._parse_not()
        self.depth -= 1
        return Not(operand)

    def _parse_predicate(self) -> Node:
        token = self._peek()
        if token.kind == "(":
            return self._parse_parenthesized()
        if token.kind == "name":
            self._advance()
            column = Column(str(token.value), token.position)
            return self._parse_column_predicate(column)
        if token.kind in _LITERAL_KINDS:
            self._advance()
            return self._parse_literal_comparison(token)
        if self._at_keyword("null"):
            raise self._error(
                token, _PREDICATE_EXPECTED, "Test for missing values with 'column is null'."
            )
        raise self._error(token, _PREDICATE_EXPECTED)

    def _parse_parenthesized(self) -> Node:
        opening = self._advance()
        self._enter(opening)
        inner = self._parse_or()
        closing = self._peek()
        if closing.kind != ")":
            fix = f"Close the '(' at position {opening.position}." if closing.kind == "end" else ""
            raise self._error(closing, "'and', 'or' or ')'", fix)
        self._advance()
        self.depth -= 1
        return inner

    def _parse_column_predicate(self, column: Column) -> Node:
        token = self._peek()
        if token.kind == "operator":
            self._advance()
            return Comparison(column, str(token.value), self._parse_operand())
        if self._at_keyword("in"):
            self._advance()
            return Membership(column, self._parse_list(), negated=False)
        if self._at_keyword("not"):
            self._advance()
            if not self._at_keyword("in"):
                raise self._error(self._peek(), "'in' after 'not'", "Write 'column not in [...]'.")
            self._advance()
            return Membership(column, self._parse_list(), negated=True)
        if self._at_keyword("is"):
            self._advance()
            negated = self._at_keyword("not")
            if negated:
                self._advance()
            if not self._at_keyword("null"):
                raise self._error(
                    self._peek(),
                    "'null' after 'is'" if not negated else "'null' after 'is not'",
                    "Use 'is null' or 'is not null' for missing values and == to compare.",
                )
            self._advance()
            return NullCheck(column, negated=negated)

        if token.kind in ("end", ")") or (token.kind == "keyword" and token.value in ("and", "or")):
            fix = f"Compare the column explicitly, e.g. {column.name} == true for a boolean column."
        else:
            fix = _BACKTICK_HINT
        raise self._error(token, _OPERATOR_EXPECTED, fix)

    def _parse_literal_comparison(self, literal: _Token) -> Node:
        token = self._peek()
        if token.kind != "operator":
            raise self._error(
                token,
                "a comparison operator (==, !=, <, <=, >, >=)",
                "Put the column first for 'in' and 'is', e.g. tier in [\"A\", \"B\"].",
            )
        self._advance()
        operand = self._parse_operand()
        if not isinstance(operand, Column):
            raise _syntax_error(
                self.text,
                literal.position,
                "a comparison of two literals",
                "a column name on at least one side",
                "Replace one literal with a column name.",
            )
        value = literal.value
        assert value is not None  # Number, string and boolean tokens always carry a value.
        return Comparison(operand, _SWAPPED[str(token.value)], Constant(value))

    def _parse_operand(self) -> Column | Constant:
        token = self._peek()
        if token.kind == "name":
            self._advance()
            return Column(str(token.value), token.position)
        if token.kind in _LITERAL_KINDS:
            self._advance()
            assert token.value is not None  # These kinds always carry a value.
            return Constant(token.value)
        if self._at_keyword("null"):
            raise self._error(
                token, _OPERAND_EXPECTED, "Test for missing values with 'column is null'."
            )
        if token.kind == "[":
            raise self._error(token, _OPERAND_EXPECTED, "Test membership with 'column in [...]'.")
        raise self._error(token, _OPERAND_EXPECTED)

    def _parse_list(self) -> tuple[LiteralValue, ...]:
        opening = self._peek()
        if opening.kind != "[":
            raise self._error(opening, "'[' after 'in'", 'Write a list such as ["A", "B"].')
        self._advance()
        values: list[LiteralValue] = []
        if self._peek().kind == "]":
            self._advance()
            return ()
        while True:
            values.append(self._parse_list_literal())
            token = self._advance()
            if token.kind == "]":
                return tuple(values)
            if token.kind != ",":
                fix = (
                    f"Close the '[' at position {opening.position}." if token.kind == "end" else ""
                )
                raise self._error(token, "',' or ']'", fix)

    def _parse_list_literal(self) -> LiteralValue:
        token = self._peek()
        if token.kind in _LITERAL_KINDS:
            self._advance()
            assert token.value is not None  # These kinds always carry a value.
            return token.value
        if self._at_keyword("null"):
            raise self._error(
                token,
                "a number, string, true or false",
                "Lists cannot contain null, so add 'or column is null' instead.",
            )
        raise self._error(token, "a number, string, true or false")


# Evaluation ----------------------------------------------------------------------------------

_KIND_PLURALS = {"number": "numbers", "string": "strings", "bool": "booleans"}


@dataclass(frozen=True)
class _ColumnData:
    """Column prepared for comparisons.

    ``kind`` is number, string, bool, empty (every cell is null) or unsupported, and
    ``problem`` explains an unsupported column. ``values`` contains the cells with nulls
    replaced by a placeholder of the same kind, so comparisons never see NaN or None.
    """

    name: str
    position: int
    dtype: str
    kind: str
    null: np.ndarray
    values: np.ndarray | None
    problem: str = ""


def _compare(compare: Callable[[Any, Any], Any], left: np.ndarray, right: Any) -> np.ndarray:
    try:
        return np.asarray(compare(left, right), dtype=bool)
    except OverflowError:
        # NumPy cannot convert an integer beyond the float64 range to compare it with a float
        # array, but Python compares ints and floats exactly.
        return np.asarray(compare(left.astype(object), right), dtype=bool)


def _literal_kind(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _describe_literal(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {_quote(value)}"
    return f"the number {value!r}"


class _Evaluator:
    """Evaluate a syntax tree on one frame, preparing each referenced column once."""

    def __init__(self, text: str, frame: pd.DataFrame) -> None:
        self.text = text
        self.frame = frame
        self.row_count = len(frame)
        self.columns: dict[str, _ColumnData] = {}

    def evaluate(self, node: Node) -> np.ndarray:
        if isinstance(node, Comparison):
            return self._comparison(node)
        if isinstance(node, Membership):
            return self._membership(node)
        if isinstance(node, NullCheck):
            null = self._column(node.column).null
            return ~null if node.negated else null.copy()
        if isinstance(node, Not):
            return ~self.evaluate(node.operand)
        if isinstance(node, And):
            result = np.ones(self.row_count, dtype=bool)
            for operand in node.operands:
                result &= self.evaluate(operand)
            return result
        result = np.zeros(self.row_count, dtype=bool)
        for operand in node.operands:
            result |= self.evaluate(operand)
        return result

    def _error(self, column: Column | _ColumnData, message: str) -> FilterError:
        return FilterError(
            f"invalid filter {_quote(self.text)} at position {column.position}: {message}"
        )

    def _comparison(self, node: Comparison) -> np.ndarray:
        left = self._column(node.column)
        compare = _OPERATOR_FUNCTIONS[node.operator]
        if isinstance(node.operand, Column):
            right = self._column(node.operand)
            self._check_columns(left, right, node.operator)
            if left.values is None or right.values is None:
                return np.zeros(self.row_count, dtype=bool)
            result = _compare(compare, left.values, right.values)
            return result & ~left.null & ~right.null

        value = node.operand.value
        self._check_literal(left, value, node.operator)
        if left.values is None:
            return np.zeros(self.row_count, dtype=bool)
        result = _compare(compare, left.values, value)
        return result & ~left.null

    def _membership(self, node: Membership) -> np.ndarray:
        column = self._column(node.column)
        for value in node.values:
            self._check_literal(column, value, "in")
        if column.values is None:
            return np.zeros(self.row_count, dtype=bool)
        # An object array keeps every literal exact: 2.5 is not truncated to an int64 column's
        # dtype, and integers beyond int64 do not overflow.
        candidates = np.array(node.values, dtype=object)
        found = np.isin(column.values, candidates)
        if node.negated:
            found = ~found
        return found & ~column.null

    def _check_literal(self, column: _ColumnData, value: LiteralValue, operator_: str) -> None:
        self._check_supported(column)
        if column.kind == "empty":
            return
        kind = _literal_kind(value)
        if kind != column.kind:
            described = f"column {_quote(column.name)} has dtype {column.dtype}"
            plural = _KIND_PLURALS[column.kind]
            if column.kind == "number" and kind == "string":
                fix = "Remove the quotes to compare with a number."
            elif column.kind == "string" and kind == "number":
                fix = f'Quote the value to compare strings, e.g. "{value}".'
            elif column.kind == "bool":
                fix = "Compare a boolean column with true or false."
            else:
                fix = f"Compare the column with {plural}."
            raise self._error(
                column,
                f"{described} and contains {plural}, so it cannot be compared with "
                f"{_describe_literal(value)}. {fix}",
            )
        if column.kind == "bool" and operator_ in _ORDERING_OPERATORS:
            raise self._error(
                column,
                f"column {_quote(column.name)} contains booleans, which have no order, so "
                f"'{operator_}' does not apply. Use == or != to compare booleans.",
            )

    def _check_columns(self, left: _ColumnData, right: _ColumnData, operator_: str) -> None:
        self._check_supported(left)
        self._check_supported(right)
        if "empty" in (left.kind, right.kind):
            return
        if left.kind != right.kind:
            raise self._error(
                left,
                f"column {_quote(left.name)} has dtype {left.dtype} and contains "
                f"{_KIND_PLURALS[left.kind]}, but column {_quote(right.name)} has dtype "
                f"{right.dtype} and contains {_KIND_PLURALS[right.kind]}, so they cannot be "
                "compared. Convert one column so that both contain the same kind of values.",
            )
        if left.kind == "bool" and operator_ in _ORDERING_OPERATORS:
            raise self._error(
                left,
                f"columns {_quote(left.name)} and {_quote(right.name)} contain booleans, which "
                f"have no order, so '{operator_}' does not apply. Use == or != to compare "
                "booleans.",
            )

    def _check_supported(self, column: _ColumnData) -> None:
        if column.kind == "unsupported":
            raise self._error(column, column.problem)

    def _column(self, reference: Column) -> _ColumnData:
        prepared = self.columns.get(reference.name)
        if prepared is None:
            series = self._select(reference)
            prepared = _prepare_column(reference, series)
            self.columns[reference.name] = prepared
        return prepared

    def _select(self, reference: Column) -> pd.Series:
        labels = list(self.frame.columns)
        matches = [
            i
            for i, label in enumerate(labels)
            if isinstance(label, str) and label == reference.name
        ]
        if len(matches) > 1:
            raise self._error(
                reference,
                f"column {_quote(reference.name)} appears {len(matches)} times in the table. "
                "Give each column a unique name.",
            )
        if matches:
            return self.frame.iloc[:, matches[0]]

        names = [label for label in labels if isinstance(label, str)]
        same_case = [name for name in names if name.lower() == reference.name.lower()]
        close = difflib.get_close_matches(reference.name, names, n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(same_case + close))
        if suggestions:
            listed = ", ".join(_quote(name) for name in suggestions)
            hint = f"Closest columns: {listed}."
        elif names:
            listed = ", ".join(_quote(name) for name in names[:10])
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            hint = f"No column has a similar name. The table has {listed}{more}."
        else:
            hint = "The table has no named columns."
        raise self._error(
            reference,
            f"column {_quote(reference.name)} not found. {hint} {_BACKTICK_HINT}",
        )


_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


def _prepare_column(reference: Column, series: pd.Series) -> _ColumnData:
    """Classify the column's values and replace nulls with a placeholder of their kind."""
    dtype = series.dtype
    dtype_name = str(dtype)

    def prepared(
        kind: str, null: np.ndarray, values: np.ndarray | None, problem: str = ""
    ) -> _ColumnData:
        return _ColumnData(
            reference.name, reference.position, dtype_name, kind, null, values, problem
        )

    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype

    null = np.asarray(series.isna(), dtype=bool)
    if pdtypes.is_bool_dtype(dtype):
        return prepared("bool", null, series.to_numpy(dtype=bool, na_value=False))

    if pdtypes.is_complex_dtype(dtype):
        return prepared("unsupported", null, None, _unsupported(reference, dtype_name))

    if pdtypes.is_numeric_dtype(dtype):
        if pdtypes.is_integer_dtype(dtype):
            # Nullable extension dtypes such as Int64 name their NumPy counterpart.
            integer_dtype: Any = getattr(dtype, "numpy_dtype", dtype)
            return prepared("number", null, series.to_numpy(dtype=integer_dtype, na_value=0))
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        null = null | np.isnan(values)
        return prepared("number", null, np.where(null, 0.0, values))

    is_object = dtype == np.dtype(object)
    if not is_object and not pdtypes.is_string_dtype(dtype):
        return prepared("unsupported", null, None, _unsupported(reference, dtype_name))

    values = series.to_numpy(dtype=object)
    if not is_object:
        null = null | (series == "").to_numpy(dtype=bool, na_value=False)
        filled = values.copy()
        filled[null] = ""
        return prepared("string", null, filled)

    # Object cells can be anything, even unhashable lists, so test each one for "".
    empty = (isinstance(value, str) and not value for value in values)
    null = null | np.fromiter(empty, dtype=bool, count=len(values))
    inferred = pdtypes.infer_dtype(values[~null], skipna=True)
    filled = values.copy()
    if inferred == "string":
        filled[null] = ""
        return prepared("string", null, filled)
    if inferred == "boolean":
        filled[null] = False
        return prepared("bool", null, filled.astype(bool))
    if inferred in _NUMBER_KINDS:
        filled[null] = 0
        return prepared("number", null, filled)
    if inferred == "empty":
        return prepared("empty", null, None)
    problem = (
        f"column {_quote(reference.name)} has dtype {dtype_name} with mixed kinds of values "
        f"(pandas infer_dtype reports {inferred!r}), so filters cannot compare it. Convert the "
        "column to numbers, strings or booleans first."
    )
    return prepared("unsupported", null, None, problem)


def _unsupported(reference: Column, dtype_name: str) -> str:
    return (
        f"column {_quote(reference.name)} has dtype {dtype_name}, which filters cannot compare. "
        "Filters compare numbers, strings and booleans, so convert the column first or test it "
        "with 'is null'."
    )
