"""Limits, pins, scope, unmatched accounts, families and presolve checks."""

from __future__ import annotations

import pandas as pd
import pytest

from smartplan import InfeasibleError, InputError, SpecError, solve, spec_from_dict
from smartplan.errors import SmartPlanWarning

from .conftest import random_accounts

MOVES = 200_000


def _spec(criteria: list[dict], territories: int = 4, **sections: dict) -> dict:
    data: dict = {"plan": {"territories": territories}, "criteria": criteria}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def test_limits_on_filtered_counts(fortune: pd.DataFrame) -> None:
    spec = spec_from_dict(
        _spec(
            [
                {"kind": "limit", "max": 10, "where": 'tier == "A"'},
                {"kind": "limit", "min": 30, "where": "employees >= 20000"},
                {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
            ],
            territories=10,
        )
    )
    plan = solve(fortune, spec, moves=2_000_000)
    merged = fortune.merge(plan.assignment, on="account_id")
    assert merged[merged["tier"] == "A"].groupby("territory").size().max() <= 10
    assert merged[merged["employees"] >= 20000].groupby("territory").size().min() >= 30
    assert plan.scorecard.summary["limits_hold"]


def test_per_territory_limit() -> None:
    accounts = random_accounts(60, seed=1)
    spec = spec_from_dict(
        {
            "territories": [{"id": "big"}, {"id": "small", "max_accounts": 5}, {"id": "mid"}],
            "criteria": [{"kind": "balance"}],
        }
    )
    plan = solve(accounts, spec, moves=MOVES)
    counts = plan.assignment["territory"].value_counts()
    assert counts["small"] <= 5
    assert counts["big"] + counts["mid"] >= 55


def test_pins_and_pins_out_of_balance() -> None:
    accounts = random_accounts(40, seed=2)
    accounts["named"] = None
    accounts.loc[:9, "named"] = "T01"
    spec = _spec(
        [{"kind": "balance", "metric": "revenue"}],
        accounts={"pin": "named", "pins_in_balance": False},
    )
    plan = solve(accounts, spec_from_dict(spec), moves=MOVES)
    pinned = plan.assignment.iloc[:10]
    assert (pinned["territory"] == "T01").all()
    assert (pinned["reason"] == "pinned").all()
    revenue = plan.scorecard.territories
    free_total = accounts["revenue"].iloc[10:].sum()
    assert revenue["target"].sum() == pytest.approx(free_total)


def test_unknown_pin_territory_is_error() -> None:
    accounts = random_accounts(10, seed=3)
    accounts["named"] = ["T09"] + [None] * 9
    spec = spec_from_dict(_spec([{"kind": "balance"}], accounts={"pin": "named"}))
    with pytest.raises(InputError, match="'T09'"):
        solve(accounts, spec, moves=MOVES)


def test_scope_restricts_plan() -> None:
    accounts = random_accounts(50, seed=4)
    spec = spec_from_dict(_spec([{"kind": "balance"}], accounts={"scope": 'tier == "A"'}))
    plan = solve(accounts, spec, moves=MOVES)
    assert set(plan.assignment["account_id"]) == set(
        accounts.loc[accounts["tier"] == "A", "account_id"]
    )


@pytest.mark.parametrize("mode", ["distribute", "unassigned"])
def test_unmatched_accounts(mode: str) -> None:
    accounts = random_accounts(80, seed=5)
    spec = spec_from_dict(
        _spec([{"kind": "balance", "where": 'tier == "A"'}], plan={"unmatched": mode})
    )
    plan = solve(accounts, spec, moves=MOVES)
    merged = accounts.merge(plan.assignment, on="account_id")
    others = merged[merged["tier"] != "A"]
    assert len(merged) == len(accounts)
    if mode == "unassigned":
        assert (others["territory"] == "").all()
        assert (others["reason"] == "unmatched").all()
    else:
        counts = others.groupby("territory").size()
        assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("children_count", [True, False])
def test_families_follow_parent(children_count: bool) -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["p1", "c1", "c2", "g1", "p2", "x1", "x2", "x3"],
            "parent_id": [None, "p1", "p1", "c1", None, None, None, None],
            "revenue": [10.0, 5.0, 5.0, 1.0, 8.0, 7.0, 6.0, 9.0],
        }
    )
    spec = spec_from_dict(
        _spec(
            [{"kind": "balance", "metric": "revenue"}],
            territories=2,
            accounts={"parent": "parent_id", "children_count": children_count},
        )
    )
    plan = solve(accounts, spec, moves=MOVES)
    family = plan.assignment.set_index("account_id").loc[["p1", "c1", "c2", "g1"], "territory"]
    assert family.nunique() == 1
    total = plan.scorecard.territories["target"].sum()
    assert total == pytest.approx(51.0 if children_count else 40.0)


PRESOLVE_CASES = {
    "hard group over cap": (
        _spec(
            [{"kind": "group", "field": "tier"}, {"kind": "balance"}],
            territories=3,
            plan={"max_accounts": 20},
        ),
        "one hard group holds",
    ),
    "pins over cap": (
        _spec([{"kind": "balance"}], plan={"max_accounts": 12}, accounts={"pin": "named"}),
        "pinned or hard-kept accounts",
    ),
    "minimums too high": (
        _spec([{"kind": "limit", "min": 11, "where": 'tier == "A"'}, {"kind": "balance"}]),
        "lower the minimum",
    ),
    "hard group over band": (
        _spec(
            [{"kind": "group", "field": "tier"}, {"kind": "balance", "tolerance": 0.1}],
            territories=2,
        ),
        "raise the tolerance",
    ),
}


@pytest.mark.parametrize("case", sorted(PRESOLVE_CASES))
def test_presolve_explains(case: str) -> None:
    accounts = random_accounts(40, seed=6)
    accounts["named"] = ["T01"] * 15 + [None] * 25
    data, fragment = PRESOLVE_CASES[case]
    with pytest.raises(InfeasibleError, match=fragment):
        solve(accounts, spec_from_dict(data), moves=MOVES)


def test_share_of_tier_without_territory() -> None:
    with pytest.raises(SpecError, match="no territory"):
        spec_from_dict(
            {
                "territories": [{"id": "a", "tier": "senior"}, {"id": "b", "tier": "senior"}],
                "criteria": [{"kind": "weight", "shares": {"senior": 0.5, "junior": 0.5}}],
            }
        )


def test_limit_for_listed_territories() -> None:
    accounts = random_accounts(60, seed=7)
    spec = spec_from_dict(
        _spec(
            [
                {"kind": "limit", "max": 3, "where": 'tier == "A"', "territories": ["T01", "T02"]},
                {"kind": "balance", "where": 'tier == "A"'},
            ]
        )
    )
    plan = solve(accounts, spec, moves=MOVES)
    merged = accounts.merge(plan.assignment, on="account_id")
    tier_a = merged[merged["tier"] == "A"].groupby("territory").size()
    assert tier_a.get("T01", 0) <= 3
    assert tier_a.get("T02", 0) <= 3
    assert tier_a.sum() == (accounts["tier"] == "A").sum()
    assert tier_a[["T03", "T04"]].sum() >= tier_a.sum() - 6


def test_unknown_owner_warns_once_per_column() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "revenue": [1.0, 2.0, 3.0, 4.0],
            "owner": ["T01", "T02", "T02", "T01"],
            "manager": ["T01", "Z99", "T02", "T01"],
        }
    )
    spec = spec_from_dict(
        _spec(
            [
                {"kind": "balance", "metric": "revenue"},
                {"kind": "keep", "owner": "manager", "where": "revenue > 2"},
                {"kind": "keep", "owner": "manager"},
            ],
            territories=2,
            accounts={"owner": "owner"},
        )
    )
    with pytest.warns(SmartPlanWarning) as caught:
        solve(accounts, spec, seed=0, moves=1_000)
    messages = [str(warning.message) for warning in caught if "'Z99'" in str(warning.message)]
    assert len(messages) == 1
    assert "no home territory" in messages[0]
