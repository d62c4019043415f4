"""Fuzzing the spec loader: any input is loaded or rejected with SpecError or FilterError.

The dicts and TOML texts are built from the spec's own vocabulary (tables, keys, criterion
kinds, column-like strings and filters) mixed with arbitrary keys and values, so that most
examples get past the first checks and exercise the deeper validation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartplan.errors import FilterError, SpecError
from smartplan.spec import PlanSpec, load_spec, spec_from_dict

TOP_KEYS = ["plan", "accounts", "territories", "criteria", "search"]
PLAN_KEYS = ["territories", "max_accounts", "min_accounts", "seed", "unmatched"]
ACCOUNT_KEYS = [
    "id",
    "scope",
    "owner",
    "pin",
    "pins_in_balance",
    "parent",
    "children_count",
    "columns",
]
TERRITORY_KEYS = ["id", "name", "tier", "capacity", "max_accounts", "min_accounts"]
CRITERION_KEYS = [
    "kind",
    "metric",
    "where",
    "tolerance",
    "weight",
    "name",
    "shares",
    "owner",
    "mode",
    "field",
    "max",
    "min",
    "territories",
]
SEARCH_KEYS = ["chains", "moves", "time_limit", "weight_ratio"]
WORDS = [
    "balance",
    "weight",
    "keep",
    "group",
    "limit",
    "soft",
    "hard",
    "distribute",
    "unassigned",
    "revenue",
    "owner",
    "T01",
    "T02",
    "senior",
    "junior",
    'tier == "A"',
    "revenue >= 10 and tier in ['A', 'B']",
    "`Account Owner` is not null",
    "revenue >> 3",
    "",
    " ",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=50),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=12,
)


def _table(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))
    extra = st.dictionaries(st.text(max_size=8), values, max_size=1)
    return st.one_of(known, known, known, st.builds(lambda a, b: {**a, **b}, known, extra))


criteria = st.builds(
    lambda kind, rest: {"kind": kind, **rest} if kind is not None else rest,
    st.sampled_from(["balance", "weight", "keep", "group", "limit", None, "spread"]),
    _table(CRITERION_KEYS),
)
VALID: dict[str, Any] = {
    "plan": {"territories": 3, "seed": 7, "max_accounts": 50},
    "accounts": {"id": "account_id", "owner": "owner", "scope": 'region == "West"'},
    "search": {"chains": 2, "moves": 200_000},
    "criteria": [
        {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
        {"kind": "weight", "shares": {"T01": 0.5, "T02": 0.25, "T03": 0.25}},
        {"kind": "keep", "owner": "owner", "mode": "soft"},
        {"kind": "group", "field": "parent", "mode": "hard"},
        {"kind": "limit", "max": 10, "where": 'tier == "A"', "territories": ["T01"]},
    ],
}


@st.composite
def mutated_valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """The valid spec above with one to three values replaced, added or removed."""
    data = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(1, 3))):
        tables: list[dict[str, Any]] = [data["plan"], data["accounts"], data["search"]]
        tables.extend(data["criteria"])
        table = draw(st.sampled_from(tables))
        key = draw(st.sampled_from(sorted({*table, *CRITERION_KEYS, *PLAN_KEYS})))
        if draw(st.integers(0, 4)) == 0:
            table.pop(key, None)
        else:
            table[key] = draw(values)
    return data


specs = (
    mutated_valid_specs()
    | st.fixed_dictionaries(
        {},
        optional={
            "plan": st.one_of(_table(PLAN_KEYS), values),
            "accounts": st.one_of(_table(ACCOUNT_KEYS), values),
            "territories": st.one_of(st.lists(_table(TERRITORY_KEYS), max_size=4), values),
            "criteria": st.one_of(st.lists(criteria, max_size=4), values),
            "search": st.one_of(_table(SEARCH_KEYS), values),
        },
    )
    | st.dictionaries(st.text(max_size=8), values, max_size=3)
)


def _check_loaded(spec: PlanSpec) -> None:
    """A spec that loads has the invariants the encoder relies on."""
    assert spec.territories
    for territory in spec.territories:
        assert math.isfinite(territory.capacity)
        assert territory.capacity > 0
    for criterion in spec.criteria:
        tolerance = getattr(criterion, "tolerance", 0.0)
        assert math.isfinite(tolerance)
        assert tolerance >= 0
        weight = getattr(criterion, "weight", None)
        assert weight is None or (math.isfinite(weight) and weight > 0)
    assert spec.search.chains >= 1
    assert math.isfinite(spec.search.weight_ratio)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(specs)
def test_spec_from_dict_loads_or_rejects(data: dict[str, Any]) -> None:
    try:
        spec = spec_from_dict(data)
    except (SpecError, FilterError):
        return
    _check_loaded(spec)


def _toml_value(value: Any) -> str:
    """Render a value as TOML where TOML can hold it (json strings are TOML basic strings)."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return (
        "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    )


def _toml_table(header: str, table: Any) -> str:
    if not isinstance(table, dict):
        return f"{header.strip('[]')} = {_toml_value(table)}\n"
    lines = [header]
    lines.extend(f"{json.dumps(str(key))} = {_toml_value(value)}" for key, value in table.items())
    return "\n".join(lines) + "\n"


@st.composite
def toml_texts(draw: st.DrawFn) -> str:
    data = draw(specs)
    parts = []
    for key in ("plan", "accounts", "search"):
        if key in data:
            parts.append(_toml_table(f"[{key}]", data[key]))
    for key in ("territories", "criteria"):
        rows = data.get(key)
        if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
            parts.extend(_toml_table(f"[[{key}]]", row) for row in rows)
        elif key in data:
            parts.insert(0, f"{key} = {_toml_value(rows)}\n")
    if draw(st.booleans()):
        # Damage the text: drop, repeat or garble a slice, as a hand edit might.
        text = "".join(parts)
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        parts = [
            text[:start] + draw(st.sampled_from(["", text[start:end] * 2, "=[\n"])) + text[end:]
        ]
    return "".join(parts)


@FUZZ
@given(st.one_of(toml_texts(), st.text(max_size=200)))
def test_load_spec_loads_or_rejects(tmp_path_factory: Any, text: str) -> None:
    path = Path(tmp_path_factory.mktemp("spec")) / "spec.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        spec = load_spec(path)
    except (SpecError, FilterError):
        return
    _check_loaded(spec)


def test_load_spec_rejects_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_bytes(b'[plan]\nterritories = 3\nname = "\xff"\n')
    try:
        load_spec(path)
    except SpecError as error:
        assert "spec.toml" in str(error)
    else:
        raise AssertionError("a spec that is not UTF-8 loaded")
