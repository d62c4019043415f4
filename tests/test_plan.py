"""End-to-end plans: coverage, hard constraints, determinism, and the Fortune example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartplan import InfeasibleError, load_spec, solve, spec_from_dict
from smartplan.errors import SpecError

from .conftest import FORTUNE_SPEC, random_accounts


def test_every_account_once() -> None:
    accounts = random_accounts(200, seed=5, territories=6)
    spec = spec_from_dict(
        {"plan": {"territories": 6}, "criteria": [{"kind": "balance", "metric": "revenue"}]}
    )
    plan = solve(accounts, spec, seed=1, moves=200_000)
    assert sorted(plan.assignment["account_id"]) == sorted(accounts["account_id"])
    assert plan.assignment["account_id"].is_unique
    assert set(plan.assignment["territory"]) <= set(spec.territory_ids)


def test_hard_keep_and_cap_hold() -> None:
    accounts = random_accounts(120, seed=6, territories=4)
    spec = spec_from_dict(
        {
            "plan": {"territories": 4, "max_accounts": 32},
            "accounts": {"owner": "owner"},
            "criteria": [
                {"kind": "keep", "owner": "owner", "where": "revenue > 60", "mode": "hard"},
                {"kind": "balance", "metric": "revenue"},
                {"kind": "balance"},
            ],
        }
    )
    plan = solve(accounts, spec, seed=3, moves=300_000)
    merged = accounts.merge(plan.assignment, on="account_id")
    kept = merged[merged["revenue"] > 60]
    assert len(kept) > 0
    assert (kept["territory"] == kept["owner"]).all()
    assert (kept["reason"] == "kept").all()
    assert merged["territory"].value_counts().max() <= 32


def test_same_seed_same_plan() -> None:
    accounts = random_accounts(150, seed=7, territories=5)
    spec = spec_from_dict(
        {
            "plan": {"territories": 5},
            "accounts": {"owner": "owner"},
            "criteria": [
                {"kind": "balance", "metric": "revenue", "tolerance": 0.02},
                {"kind": "keep", "owner": "owner"},
            ],
        }
    )
    first = solve(accounts, spec, seed=11, moves=300_000)
    second = solve(accounts, spec, seed=11, moves=300_000)
    pd.testing.assert_frame_equal(first.assignment, second.assignment)


def test_impossible_cap_is_infeasible() -> None:
    accounts = random_accounts(50, seed=8)
    spec = spec_from_dict(
        {"plan": {"territories": 3, "max_accounts": 10}, "criteria": [{"kind": "balance"}]}
    )
    with pytest.raises(InfeasibleError, match="raise the maximum to at least 17"):
        solve(accounts, spec)


def test_fortune_revenue_within_band(fortune: pd.DataFrame) -> None:
    plan = solve(fortune, load_spec(FORTUNE_SPEC))
    revenue = plan.scorecard.territories
    revenue = revenue[revenue["criterion"] == "balance revenue"]
    assert len(revenue) == 10
    assert (revenue["deviation"].abs() <= 0.05 + 1e-12).all()
    before = plan.baseline()
    assert before is not None
    assert plan.cost < before.cost
    assert 0 < plan.scorecard.summary["accounts_moved"] < len(fortune)


def test_priority_order_is_strict() -> None:
    """Revenue (priority 1) ends at least as balanced as employees (priority 2)."""
    accounts = random_accounts(60, seed=9, territories=4)
    criteria = [
        {"kind": "balance", "metric": "revenue"},
        {"kind": "balance", "metric": "employees"},
    ]
    spec = spec_from_dict({"plan": {"territories": 4}, "criteria": criteria})
    alone = spec_from_dict({"plan": {"territories": 4}, "criteria": criteria[:1]})
    both = solve(accounts, spec, seed=2, moves=400_000)
    first_only = solve(accounts, alone, seed=2, moves=400_000)
    costs = both.scorecard.term_costs()
    assert costs[0] <= costs[1]
    assert costs[0] <= first_only.scorecard.term_costs()[0] * 1.05 + 1e-6
    assert np.isfinite(both.cost)


@pytest.mark.parametrize(
    ("override", "value"),
    [("time_limit", 0.0), ("time_limit", float("nan")), ("moves", 0), ("chains", True)],
)
def test_invalid_override_rejected(override: str, value: object) -> None:
    accounts = random_accounts(20, 1, territories=2)
    spec = spec_from_dict({"plan": {"territories": 2}, "criteria": [{"kind": "balance"}]})
    with pytest.raises(SpecError, match=f"{override} = "):
        solve(accounts, spec, **{override: value})
