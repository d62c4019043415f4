"""Presolve diagnoses infeasible specs with a fix, and the fix it suggests works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from smartplan.cli import main
from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.errors import InfeasibleError
from smartplan.presolve import presolve
from smartplan.spec import spec_from_dict

from .conftest import FORTUNE

WALMART_40 = (
    "criterion 'balance revenue': Walmart (F0001) holds 3.3% of revenue; with 40 "
    "territories a 5% band allows at most 2.6%: raise the tolerance to at least 32% or use "
    "at most 31 territories"
)


def _revenue_spec(territories: int, tolerance: float, **accounts: Any) -> dict[str, Any]:
    return {
        "plan": {"territories": territories},
        "accounts": {"id": "account_id", **accounts},
        "criteria": [{"kind": "balance", "metric": "revenue", "tolerance": tolerance}],
    }


def _presolve(table: pd.DataFrame, data: dict[str, Any], relax: bool = False) -> list[str]:
    encoding = encode(table, spec_from_dict(data))
    return presolve(encoding, build_model(encoding), relax=relax)


def test_oversized_account_message_on_fortune(fortune: pd.DataFrame) -> None:
    with pytest.raises(InfeasibleError) as error:
        _presolve(fortune, _revenue_spec(40, 0.05))
    message = str(error.value)
    assert message.startswith(WALMART_40)
    assert "run with --relax" in message


@pytest.mark.parametrize(
    ("territories", "tolerance", "feasible"),
    [(40, 0.32, True), (40, 0.31, False), (31, 0.05, True), (32, 0.05, False)],
)
def test_oversized_account_fixes_are_tight(
    fortune: pd.DataFrame, territories: int, tolerance: float, feasible: bool
) -> None:
    # The suggested tolerance (32%) and territory count (31) are the edges of feasibility.
    findings = _presolve(fortune, _revenue_spec(territories, tolerance), relax=True)
    oversized = [finding for finding in findings if "Walmart (F0001) holds" in finding]
    assert (not oversized) == feasible


def test_oversized_account_named_by_id_without_name_column(fortune: pd.DataFrame) -> None:
    table = fortune.drop(columns=["company"])
    with pytest.raises(InfeasibleError, match=r"'balance revenue': F0001 holds 3\.3%"):
        _presolve(table, _revenue_spec(40, 0.05))


def test_oversized_hard_group_names_members() -> None:
    table = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e", "f"],
            "name": ["Acme", "Acme East", "Bolt", "Core", "Dyn", "Echo"],
            "revenue": [30.0, 30.0, 10.0, 10.0, 10.0, 10.0],
            "family": ["acme", "acme", None, None, None, None],
        }
    )
    data = _revenue_spec(3, 0.1)
    data["criteria"].append({"kind": "group", "field": "family", "mode": "hard"})
    with pytest.raises(InfeasibleError) as error:
        _presolve(table, data)
    message = str(error.value)
    assert "Acme (a) and Acme East (b) (one hard group) hold 60% of revenue" in message
    assert "raise the tolerance to at least 80%" in message


def _pinned_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(10)],
            "company": [f"Company {i}" for i in range(10)],
            "revenue": [10.0] * 10,
            "pin": ["T01"] * 8 + [None, None],
        }
    )


@pytest.mark.parametrize(("tolerance", "lower_edge_fails"), [(0.69, True), (0.70, False)])
def test_pins_that_starve_lower_band_edges(tolerance: float, lower_edge_fails: bool) -> None:
    # 80 of 100 is pinned to T01; T02 and T03 need 33.3 * (1 - tolerance) each from the
    # 20 left, so 70% is the smallest tolerance that works.
    findings = _presolve(_pinned_table(), _revenue_spec(3, tolerance, pin="pin"), relax=True)
    lower = [finding for finding in findings if "lower edges" in finding]
    assert bool(lower) == lower_edge_fails
    if lower_edge_fails:
        assert "territory T01 alone 80.0%" in lower[0]
        assert "such as Company 0 (A0), Company 1 (A1), Company 2 (A2) and 5 more" in lower[0]
        assert "raise the tolerance to at least 70%" in lower[0]
    # T01 holds 80, above its upper edge at any of these tolerances.
    assert any("above its band's upper edge" in finding for finding in findings)


def test_band_findings_raise_without_relax() -> None:
    with pytest.raises(InfeasibleError, match=r"lower edges|upper edge"):
        _presolve(_pinned_table(), _revenue_spec(3, 0.2, pin="pin"))


def test_hard_keep_over_upper_edge() -> None:
    table = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "revenue": [40.0, 40.0, 10.0, 10.0],
            "owner": ["T01", "T01", None, None],
        }
    )
    data = _revenue_spec(2, 0.1)
    data["criteria"].append({"kind": "keep", "owner": "owner", "mode": "hard"})
    with pytest.raises(InfeasibleError, match="give territory T01 80, above its band's upper"):
        _presolve(table, data)


def _count_table(n: int, pins: list[str | None] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "revenue": [1.0] * n,
            "pin": pins if pins is not None else [None] * n,
        }
    )


def _limit_spec(**plan: Any) -> dict[str, Any]:
    return {
        "plan": {"territories": 3, **plan},
        "accounts": {"id": "account_id", "pin": "pin"},
        "criteria": [{"kind": "balance", "metric": "revenue"}],
    }


def test_caps_too_small_for_scope() -> None:
    with pytest.raises(InfeasibleError, match="raise the maximum to at least 4 or add"):
        _presolve(_count_table(10), _limit_spec(max_accounts=3))


def test_pins_over_cap() -> None:
    table = _count_table(10, ["T01"] * 5 + [None] * 5)
    with pytest.raises(InfeasibleError, match=r"5 pinned or hard-kept accounts .* over its max"):
        _presolve(table, _limit_spec(max_accounts=4))


def test_minimum_above_total() -> None:
    with pytest.raises(InfeasibleError, match="lower the minimum to at most 3"):
        _presolve(_count_table(10), _limit_spec(min_accounts=4))


@pytest.mark.parametrize(("minimum", "feasible"), [(2, True), (3, False)])
def test_minimum_starved_by_pins(minimum: int, feasible: bool) -> None:
    # 5 of 9 accounts are pinned to T01; T02 and T03 share the other 4.
    table = _count_table(9, ["T01"] * 5 + [None] * 4)
    data = _limit_spec(min_accounts=minimum)
    if feasible:
        _presolve(table, data)
        return
    with pytest.raises(InfeasibleError) as error:
        _presolve(table, data)
    message = str(error.value)
    assert "the minima need 6 more accounts in territories T02 (3 short), T03 (3 short)" in message
    assert "leave only 4 accounts free" in message
    assert "lower the minimum to at most 2" in message


def test_territory_minimum_above_maximum() -> None:
    data = _limit_spec(max_accounts=2)
    del data["plan"]["territories"]
    data["territories"] = [{"id": "T01", "min_accounts": 3}, {"id": "T02"}, {"id": "T03"}]
    with pytest.raises(
        InfeasibleError, match="T01 needs at least 3 accounts but may hold at most 2"
    ):
        _presolve(_count_table(5), data)


WALMART_SPEC = """
[plan]
territories = 40
seed = 3
[accounts]
id = "account_id"
[[criteria]]
kind = "balance"
metric = "revenue"
tolerance = 0.05
"""


def test_relax_plans_and_lists_violations(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(WALMART_SPEC)
    out = tmp_path / "plan.csv"
    args = ["plan", str(FORTUNE), "--spec", str(spec), "--out", str(out), "--moves", "20000"]

    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert WALMART_40 in refused.stderr
    assert not out.exists()

    relaxed = CliRunner().invoke(main, [*args, "--relax", "--chains", "1"])
    assert relaxed.exit_code == 0, relaxed.stderr
    assert f"relaxed: {WALMART_40}" in relaxed.stderr
    assert "relaxed: criterion 'balance revenue': the plan breaks its 5% band" in relaxed.stderr
    assert "BROKEN" in relaxed.stdout
    assert len(pd.read_csv(out)) == 1000
    summary = json.loads((tmp_path / "plan_scorecard.json").read_text())["summary"]
    assert summary["relaxed"][0] == WALMART_40
    assert any("breaks its 5% band" in line for line in summary["relaxed"])


def test_relax_does_not_lift_hard_limits(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    _count_table(10).drop(columns=["pin"]).to_csv(accounts, index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(WALMART_SPEC.replace("territories = 40", "territories = 3\nmax_accounts = 3"))
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(
        main, ["plan", str(accounts), "--spec", str(spec), "--out", str(out), "--relax"]
    )
    assert result.exit_code == 2
    assert "raise the maximum to at least 4" in result.stderr
    assert not out.exists()
