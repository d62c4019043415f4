"""The exact baselines against the engine's cost and against enumeration of tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from smartplan import solve, spec_from_dict
from smartplan.baselines import solve_cpsat, solve_mip
from smartplan.baselines.formulation import formulate
from smartplan.baselines.moves_bound import fewest_moves_bound
from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.engine.kernels import recompute_state
from smartplan.engine.search import weighted_cost
from smartplan.metrics import score

from .conftest import random_accounts

SOLVERS = {"highs": solve_mip, "cp-sat": solve_cpsat}

SPECS = {
    "bands-keep-cap": {
        "plan": {"territories": 3, "max_accounts": 4},
        "accounts": {"owner": "owner"},
        "criteria": [
            {"kind": "balance", "metric": "revenue", "tolerance": 0.1},
            {"kind": "keep", "owner": "owner", "where": 'tier == "A"', "metric": "revenue"},
            {"kind": "balance", "where": "employees >= 2500", "tolerance": 0.2},
            {"kind": "keep", "owner": "owner"},
        ],
    },
    "soft-group-limit": {
        "plan": {"territories": 3},
        "criteria": [
            {"kind": "balance", "metric": "employees"},
            {"kind": "group", "field": "family", "mode": "soft"},
            {"kind": "limit", "max": 1, "where": 'tier == "A"'},
        ],
    },
    "shares-hard-group": {
        "territories": [
            {"id": "T01", "tier": "senior"},
            {"id": "T02", "tier": "junior"},
            {"id": "T03", "tier": "junior", "capacity": 0.5},
        ],
        "accounts": {"pin": "pin"},
        "criteria": [
            {"kind": "weight", "metric": "revenue", "shares": {"senior": 0.5, "junior": 0.5}},
            {"kind": "group", "field": "family", "mode": "hard"},
            {"kind": "balance", "tolerance": 0.25},
        ],
    },
}


def _accounts(name: str, n: int, seed: int) -> pd.DataFrame:
    accounts = random_accounts(n, seed=seed, territories=3)
    if name == "soft-group-limit":
        accounts["tier"] = ["A" if i < 3 else "B" for i in range(n)]
    if name == "shares-hard-group":
        accounts["pin"] = [None] * n
        accounts.loc[0, "pin"] = "T02"
    return accounts


def _enumerated_optimum(accounts: pd.DataFrame, spec) -> float:
    model = build_model(encode(accounts, spec)).model
    best = np.inf
    n_units = model.unit_pin.shape[0]
    for combo in itertools.product(range(model.n_territories), repeat=n_units):
        state = recompute_state(model, np.array(combo, dtype=np.int32))
        pins = model.unit_pin
        if state.violation[0] == 0 and ((pins < 0) | (pins == state.assign)).all():
            best = min(best, weighted_cost(model, state.costs))
    return best


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("name", sorted(SPECS))
def test_fixed_plan_objective_is_engine_cost(solver: str, name: str) -> None:
    accounts = _accounts(name, 12, seed=41)
    spec = spec_from_dict(SPECS[name])
    plan = solve(accounts, spec, seed=1, moves=20_000, relax=True)
    rng = np.random.default_rng(5)
    encoding = plan.encoding
    random_units = rng.integers(0, encoding.n_territories, encoding.n_units)
    for assign in (plan.account_territory, random_units[encoding.unit]):
        expected = score(encoding, assign)
        fixed = SOLVERS[solver](accounts, spec, time_limit=10, fix=assign)
        if not expected.summary["limits_hold"] or not _pins_hold(encoding, assign):
            assert fixed.status == "infeasible"
            continue
        assert fixed.status == "optimal"
        np.testing.assert_array_equal(fixed.account_territory, assign)
        assert fixed.cost == pytest.approx(expected.cost, rel=1e-12, abs=1e-12)
        # The solver's own objective: exact up to HiGHS's tolerances, or up to CP-SAT's
        # proven rounding error.
        slack = fixed.stats.objective_error + 1e-7 * max(1.0, expected.cost)
        assert abs(fixed.stats.objective - expected.cost) <= slack
        assert fixed.bound <= expected.cost * (1 + 1e-9) + 1e-9


def _pins_hold(encoding, assign: np.ndarray) -> bool:
    pinned = encoding.pin >= 0
    return bool((assign[pinned] == encoding.pin[pinned]).all())


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("instance", [1, 2])
def test_optimum_matches_enumeration(solver: str, name: str, instance: int) -> None:
    accounts = _accounts(name, 7, seed=200 + instance)
    spec = spec_from_dict(SPECS[name])
    optimum = _enumerated_optimum(accounts, spec)
    result = SOLVERS[solver](accounts, spec, time_limit=20)
    assert result.status == "optimal"
    assert result.cost == pytest.approx(optimum, rel=1e-9, abs=1e-12)
    assert result.bound <= optimum * (1 + 1e-9) + 1e-9
    assert result.bound >= optimum * 0.9 - 1e-9
    assert result.scorecard is not None
    assert result.scorecard.summary["limits_hold"]


# The engine misses the optimum of the banded keep spec on some of these runs. On 7 accounts
# the optimum keeps a tier A account home by moving three other accounts at once, and no
# kick of the local search makes that trade in one step.
ENGINE_MISSES = {"bands-keep-cap"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                reason="the search stays in a banded plan that moves a tier A account", strict=False
            ),
        )
        if name in ENGINE_MISSES
        else name
        for name in sorted(SPECS)
    ],
)
def test_engine_matches_proven_optimum(name: str) -> None:
    for instance in (3, 4):
        accounts = _accounts(name, 7, seed=300 + instance)
        spec = spec_from_dict(SPECS[name])
        proven = solve_mip(accounts, spec, time_limit=20)
        assert proven.status == "optimal"
        for seed in (0, 1):
            plan = solve(accounts, spec, seed=seed, moves=50_000, relax=True)
            assert plan.cost == pytest.approx(proven.cost, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_engine_never_below_proven_optimum(name: str) -> None:
    for instance in range(5, 10):
        accounts = _accounts(name, 7, seed=300 + instance)
        spec = spec_from_dict(SPECS[name])
        highs = solve_mip(accounts, spec, time_limit=20)
        cpsat = solve_cpsat(accounts, spec, time_limit=20)
        assert highs.status == "optimal"
        assert cpsat.status == "optimal"
        plan = solve(accounts, spec, seed=instance, moves=20_000, relax=True)
        assert plan.cost >= highs.cost - 1e-9 * max(1.0, highs.cost)
        assert plan.cost >= cpsat.bound


def test_formulation_cost_is_engine_cost() -> None:
    name = "bands-keep-cap"
    accounts = _accounts(name, 12, seed=8)
    encoding = encode(accounts, spec_from_dict(SPECS[name]))
    model = build_model(encoding).model
    formulation = formulate(model)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assign = rng.integers(0, model.n_territories, model.unit_pin.shape[0]).astype(np.int32)
        state = recompute_state(model, assign)
        assert formulation.cost(assign) == pytest.approx(
            weighted_cost(model, state.costs), rel=1e-12
        )
        assert (formulation.violation(assign) == 0) == (state.violation[0] == 0)


def test_unbuildable_assignment_is_rejected() -> None:
    accounts = _accounts("bands-keep-cap", 12, seed=9)
    spec = spec_from_dict(SPECS["bands-keep-cap"])
    with pytest.raises(Exception, match="one territory index per account"):
        solve_mip(accounts, spec, fix=np.zeros(5, dtype=np.int32))


def test_moves_bound_below_any_banded_plan() -> None:
    accounts = random_accounts(40, seed=12, territories=4)
    spec = spec_from_dict(
        {
            "plan": {"territories": 4},
            "accounts": {"owner": "owner"},
            "criteria": [
                {"kind": "balance", "metric": "revenue", "tolerance": 0.1},
                {"kind": "balance", "tolerance": 0.1},
                {"kind": "keep", "owner": "owner"},
            ],
        }
    )
    bound = fewest_moves_bound(accounts, spec)
    assert bound.status == "optimal"
    exact = solve_mip(accounts, spec, time_limit=30)
    assert exact.status == "optimal"
    assert exact.scorecard is not None
    assert exact.scorecard.criteria["band_holds"].iloc[:2].all()
    moved = exact.scorecard.summary["accounts_moved"]
    assert bound.moves <= moved + 1e-6
    assert bound.moves > 0
