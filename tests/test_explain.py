"""Explanations: the stated cost of the best alternative against the engine, and the words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from smartplan import InputError, solve, spec_from_dict
from smartplan.cli import main
from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.engine.kernels import recompute_state, relocate_apply
from smartplan.explain import EXPLANATION_COLUMNS, explain, explain_all, unit_assignment
from smartplan.metrics import Scorecard, score
from smartplan.plan import PLAN_COLUMNS
from smartplan.plan_file import PlanAssignment, match_plan

from .conftest import random_accounts

MIXED_SPEC = {
    "plan": {"territories": 4, "max_accounts": 22},
    "accounts": {"owner": "owner"},
    "criteria": [
        {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
        {"kind": "balance", "where": 'tier == "A"', "tolerance": 0.2},
        {"kind": "keep", "owner": "owner", "where": "revenue > 20"},
        {"kind": "group", "field": "family", "mode": "soft"},
        {"kind": "limit", "max": 8, "where": "employees >= 3500"},
        {"kind": "keep", "owner": "owner"},
    ],
}


@pytest.fixture(scope="module")
def mixed_plan():
    accounts = random_accounts(70, seed=21, territories=4)
    return solve(accounts, spec_from_dict(MIXED_SPEC), seed=3, moves=60_000)


def _move_and_score(plan: PlanAssignment, account: int, territory: int) -> tuple[Scorecard, ...]:
    """Scorecards before and after moving the account's unit with the engine's apply."""
    encoding = plan.encoding
    model = build_model(encoding).model
    state = recompute_state(model, unit_assignment(encoding, plan.account_territory))
    u = int(encoding.unit[account])
    before = score(encoding, state.assign[encoding.unit])
    relocate_apply(model, state, u, int(state.assign[u]), territory)
    return before, score(encoding, state.assign[encoding.unit])


def test_stated_cost_matches_engine_move(mixed_plan) -> None:
    table = explain_all(mixed_plan)
    checked = 0
    for account, row in enumerate(table.itertuples()):
        if not row.alternative:
            continue
        target = mixed_plan.encoding.territory_ids.index(row.alternative)
        before, after = _move_and_score(mixed_plan, account, target)
        scale = max(abs(before.cost), abs(after.cost), 1.0)
        assert row.alternative_cost == pytest.approx(after.cost - before.cost, abs=1e-9 * scale)
        checked += 1
    assert checked > 30


def test_criterion_changes_match_scorecards(mixed_plan) -> None:
    moved = mixed_plan.assignment[mixed_plan.assignment["moved"]]
    assert len(moved) > 0
    for account_id in moved["account_id"].head(5):
        explanation = explain(mixed_plan, account_id)
        account = list(mixed_plan.encoding.account_ids).index(account_id)
        target = mixed_plan.encoding.territory_ids.index(explanation.alternative)
        before, after = _move_and_score(mixed_plan, account, target)
        expected = after.term_costs() - before.term_costs()
        np.testing.assert_allclose(explanation.changes["change"], expected, atol=1e-12)
        weighted = explanation.changes["weighted_change"].to_numpy()
        if weighted.max() > 0:
            worst = explanation.changes["criterion"].iloc[int(np.argmax(weighted))]
            assert explanation.criterion == worst


def test_alternative_is_cheapest_feasible_move(mixed_plan) -> None:
    """Brute force with full scorecards: no feasible territory is cheaper than the one named."""
    encoding = mixed_plan.encoding
    table = explain_all(mixed_plan)
    for account in range(0, encoding.n_accounts, 7):
        row = table.iloc[account]
        current = int(mixed_plan.account_territory[account])
        costs = []
        for t in range(encoding.n_territories):
            if t == current:
                continue
            before, after = _move_and_score(mixed_plan, account, t)
            if after.summary["limits_hold"]:
                costs.append(after.cost - before.cost)
        if not costs:
            assert row["alternative"] == ""
            continue
        scale = max(abs(before.cost), abs(after.cost), 1.0)
        assert row["alternative_cost"] == pytest.approx(min(costs), abs=1e-9 * scale)


def test_solve_adds_explanation_columns(mixed_plan) -> None:
    accounts = random_accounts(70, seed=21, territories=4)
    explained = solve(accounts, spec_from_dict(MIXED_SPEC), seed=3, moves=60_000, explain=True)
    assert list(explained.assignment.columns) == PLAN_COLUMNS + EXPLANATION_COLUMNS
    pd.testing.assert_frame_equal(explained.assignment[PLAN_COLUMNS], mixed_plan.assignment)
    table = explain_all(mixed_plan)
    pd.testing.assert_frame_equal(
        explained.assignment[EXPLANATION_COLUMNS], table[EXPLANATION_COLUMNS]
    )


def _fixed_plan(
    revenue: list[float], territory: list[int], spec: dict, extra: dict | None = None
) -> PlanAssignment:
    accounts = pd.DataFrame(
        {"account_id": [f"A{i}" for i in range(len(revenue))], "revenue": revenue, **(extra or {})}
    )
    return PlanAssignment(encode(accounts, spec_from_dict(spec)), np.array(territory, np.int32))


def test_text_names_receiving_territory() -> None:
    spec = {"plan": {"territories": 2}, "criteria": [{"kind": "balance", "metric": "revenue"}]}
    plan = _fixed_plan([10, 10, 10, 10], [0, 0, 1, 1], spec)
    explanation = explain(plan, "A0")
    assert explanation.reason == "optimized"
    assert explanation.alternative == "T02"
    assert explanation.alternative_cost == pytest.approx(0.5)
    assert explanation.criterion == "balance revenue"
    assert "placed in T01 by the optimizer (no home territory)" in explanation.text
    assert "puts T02 50.0% above its target on balance revenue" in explanation.text
    assert "(priority 1, no tolerance)" in explanation.text


def test_text_names_giving_territory() -> None:
    """T01's band (36..44) is narrower than T02's (72..88), so T01 loses more by giving."""
    spec = {
        "territories": [{"id": "T01"}, {"id": "T02", "capacity": 2}],
        "criteria": [{"kind": "balance", "metric": "revenue", "tolerance": 0.1}],
    }
    plan = _fixed_plan([30, 10, 40, 40], [0, 0, 1, 1], spec)
    explanation = explain(plan, "A1")
    assert explanation.alternative == "T02"
    assert "leaves T01 25.0% below its target on balance revenue" in explanation.text
    assert "tolerance ±10%" in explanation.text
    assert explanation.alternative_cost == pytest.approx((6 + 2) / 120)


def test_text_names_keep_share() -> None:
    spec = {
        "plan": {"territories": 2},
        "accounts": {"owner": "owner"},
        "criteria": [
            {"kind": "balance", "metric": "revenue", "tolerance": 0.5},
            {"kind": "keep", "owner": "owner"},
        ],
    }
    owners = {"owner": ["T01", "T01", "T02", "T02"]}
    plan = _fixed_plan([10, 10, 10, 10], [0, 0, 1, 1], spec, owners)
    explanation = explain(plan, "A0")
    assert explanation.reason == "kept"
    assert explanation.criterion == "keep owner"
    assert "kept in its home territory T01" in explanation.text
    assert "raises the moved share on keep owner (priority 2) from 0.0% to 25.0%" in (
        explanation.text
    )


def test_text_flags_improving_move() -> None:
    spec = {"plan": {"territories": 2}, "criteria": [{"kind": "balance", "metric": "revenue"}]}
    plan = _fixed_plan([10, 10, 10, 10], [0, 0, 0, 1], spec)
    explanation = explain(plan, "A0")
    assert explanation.alternative_cost == pytest.approx(-0.5)
    assert explanation.criterion == ""
    assert "would lower the plan cost by 0.5" in explanation.text
    assert "a larger move budget may find a better plan" in explanation.text


def test_full_territories_leave_no_alternative() -> None:
    spec = {"plan": {"territories": 3, "max_accounts": 2}, "criteria": [{"kind": "balance"}]}
    plan = _fixed_plan([1] * 6, [0, 0, 1, 1, 2, 2], spec)
    table = explain_all(plan)
    assert (table["alternative"] == "").all()
    assert table["alternative_cost"].isna().all()
    assert table["explanation"].str.contains("without breaking a hard limit").all()
    assert table["explanation"].str.contains("accounts per territory").all()


def test_pinned_account_has_no_alternative() -> None:
    spec = {
        "plan": {"territories": 2},
        "accounts": {"pin": "named"},
        "criteria": [{"kind": "balance", "metric": "revenue"}],
    }
    plan = _fixed_plan([5, 5, 5, 5], [1, 0, 1, 0], spec, {"named": ["T02", None, None, None]})
    explanation = explain(plan, "A0")
    assert explanation.reason == "pinned"
    assert explanation.alternative == ""
    assert explanation.text == "pinned to T02 by the pin column named."
    assert len(explanation.candidates) == 0


def test_group_moves_as_one() -> None:
    spec = {
        "plan": {"territories": 2},
        "accounts": {"owner": "owner"},
        "criteria": [
            {"kind": "group", "field": "family", "mode": "hard"},
            {"kind": "balance", "metric": "revenue"},
        ],
    }
    extra = {"family": ["f", "f", "f", None, None], "owner": ["T01", "T02", "T01", "T02", "T02"]}
    plan = _fixed_plan([4, 4, 4, 6, 6], [0, 0, 0, 1, 1], spec, extra)
    explanation = explain(plan, "A1")
    assert explanation.reason == "grouped"
    assert explanation.group_size == 3
    assert "with its group of 3 accounts (family), moved from T02" in explanation.text
    assert "moving the group of 3 there" in explanation.text


def test_unknown_account_is_error(mixed_plan) -> None:
    with pytest.raises(InputError, match="'NOPE' is not in the plan"):
        explain(mixed_plan, "NOPE")


def test_split_group_in_plan_file_is_error() -> None:
    spec = {
        "plan": {"territories": 2},
        "criteria": [
            {"kind": "group", "field": "family", "mode": "hard"},
            {"kind": "balance", "metric": "revenue"},
        ],
    }
    plan = _fixed_plan([1, 1, 1], [0, 1, 1], spec, {"family": ["f", "f", None]})
    with pytest.raises(InputError, match="hard group"):
        explain_all(plan)


def test_plan_file_must_cover_scope() -> None:
    accounts = random_accounts(10, seed=4)
    spec = {"plan": {"territories": 3}, "criteria": [{"kind": "balance"}]}
    encoding = encode(accounts, spec_from_dict(spec))
    partial = pd.DataFrame({"account_id": accounts["account_id"][:8], "territory": "T01"})
    with pytest.raises(InputError, match="no territory for 2 accounts"):
        match_plan(encoding, partial, "plan.csv")
    unknown = pd.DataFrame({"account_id": accounts["account_id"], "territory": "T09"})
    with pytest.raises(InputError, match="'T09'"):
        match_plan(encoding, unknown, "plan.csv")


SMALL_SPEC = """
[plan]
territories = 3
seed = 1
[accounts]
owner = "owner"
[[criteria]]
kind = "balance"
metric = "revenue"
tolerance = 0.05
[[criteria]]
kind = "keep"
owner = "owner"
"""


def test_cli_plan_and_explain(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    random_accounts(40, seed=5, territories=3).to_csv(accounts, index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(SMALL_SPEC)
    runner = CliRunner()
    plan_args = ["plan", str(accounts), "--spec", str(spec), "--moves", "20000", "--quiet"]
    result = runner.invoke(main, [*plan_args, "--out", str(tmp_path / "plan.csv")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "plan.csv")
    assert list(written.columns) == PLAN_COLUMNS + EXPLANATION_COLUMNS
    assert written["explanation"].notna().all()

    result = runner.invoke(main, [*plan_args, "--out", str(tmp_path / "bare.csv"), "--no-explain"])
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(tmp_path / "bare.csv").columns) == PLAN_COLUMNS

    moved = written[written["moved"]]["account_id"].iloc[0]
    explain_args = ["explain", str(accounts), "--spec", str(spec), "--plan"]
    result = runner.invoke(main, [*explain_args, str(tmp_path / "plan.csv"), moved, "A000"])
    assert result.exit_code == 0, result.output
    assert f"account {moved}: moved from" in result.output
    assert "account A000:" in result.output
    assert "plan cost change of moving it to each territory" in result.output
    stated = written.set_index("account_id").loc[moved, "explanation"]
    assert stated in result.output

    result = runner.invoke(main, [*explain_args, str(tmp_path / "plan.csv"), "Z999"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error:")
    assert "'Z999'" in result.stderr
