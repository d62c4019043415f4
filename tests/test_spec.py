from __future__ import annotations

import pytest

from smartplan import Balance, Keep, SpecError, load_spec, spec_from_dict
from smartplan.errors import FilterError

from .conftest import FORTUNE_SPEC


def test_example_spec_loads() -> None:
    spec = load_spec(FORTUNE_SPEC)
    assert len(spec.territories) == 10
    assert isinstance(spec.criteria[0], Balance)
    assert spec.criteria[0].metric == "revenue"
    assert spec.criteria[0].tolerance == 0.05
    assert any(isinstance(c, Keep) for c in spec.criteria)
    assert spec.seed == 7


def test_territory_count_names() -> None:
    spec = spec_from_dict({"plan": {"territories": 3}})
    assert spec.territory_ids == ["T01", "T02", "T03"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "missing plan.territories"),
        ({"plan": {"territories": 0}}, "positive integer"),
        ({"plan": {"territories": 3, "seeds": 1}}, "did you mean 'seed'"),
        ({"plan": {"territories": 3}, "criteria": [{"kind": "balanse"}]}, "did you mean 'balance'"),
        (
            {"plan": {"territories": 3}, "criteria": [{"kind": "balance", "tolerance": -1}]},
            "tolerance -1",
        ),
        (
            {"plan": {"territories": 3}, "criteria": [{"kind": "keep"}]},
            "needs owner",
        ),
        (
            {
                "territories": [{"id": "a", "tier": "senior"}, {"id": "b", "tier": "junior"}],
                "criteria": [{"kind": "weight", "shares": {"senior": 0.7, "junior": 0.2}}],
            },
            "sum to 0.9",
        ),
        (
            {
                "territories": [{"id": "a", "tier": "senior"}, {"id": "b", "tier": "senior"}],
                "criteria": [{"kind": "weight", "shares": {"senior": 0.5, "junior": 0.5}}],
            },
            "have no territory",
        ),
        ({"territories": [{"id": "a"}, {"id": "a"}]}, "duplicate territory ids"),
        ({"territories": [{"id": "a", "capacity": 0}]}, "capacity must be positive"),
        (
            {"plan": {"territories": 2}, "criteria": [{"kind": "limit", "min": 5, "max": 3}]},
            "above max",
        ),
    ],
)
def test_invalid_spec_names_field(data: dict, fragment: str) -> None:
    with pytest.raises(SpecError) as error:
        spec_from_dict(data)
    assert fragment in str(error.value)


def test_bad_filter_in_spec() -> None:
    with pytest.raises(FilterError):
        spec_from_dict(
            {"plan": {"territories": 2}, "criteria": [{"kind": "balance", "where": "tier = 'A'"}]}
        )


def test_missing_spec_file(tmp_path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.toml")


def test_invalid_toml(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[plan\nterritories = 3\n")
    with pytest.raises(SpecError, match="invalid TOML"):
        load_spec(path)
