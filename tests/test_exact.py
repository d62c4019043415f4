"""The engine against optima found by enumerating every assignment of tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from smartplan import solve, spec_from_dict
from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.engine.kernels import recompute_state
from smartplan.engine.search import weighted_cost

from .conftest import random_accounts

SPECS = {
    "balance-keep-count": {
        "plan": {"territories": 3},
        "accounts": {"owner": "owner"},
        "criteria": [
            {"kind": "balance", "metric": "revenue", "tolerance": 0.1},
            {"kind": "keep", "owner": "owner", "where": 'tier == "A"'},
            {"kind": "balance"},
        ],
    },
    "capped-soft-group": {
        "plan": {"territories": 3, "max_accounts": 4},
        "criteria": [
            {"kind": "balance", "metric": "revenue"},
            {"kind": "group", "field": "family", "mode": "soft"},
        ],
    },
    "weighted-shares": {
        "territories": [
            {"id": "S1", "tier": "senior"},
            {"id": "J1", "tier": "junior"},
            {"id": "J2", "tier": "junior", "capacity": 0.5},
        ],
        "criteria": [
            {"kind": "weight", "metric": "revenue", "shares": {"senior": 0.6, "junior": 0.4}},
            {"kind": "balance", "metric": "employees", "tolerance": 0.2},
        ],
    },
}


def _optimum(model) -> float:
    n_units = model.unit_pin.shape[0]
    best = np.inf
    for combo in itertools.product(range(model.n_territories), repeat=n_units):
        state = recompute_state(model, np.array(combo, dtype=np.int32))
        if state.violation[0] == 0:
            best = min(best, weighted_cost(model, state.costs))
    return best


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("instance", [1, 2, 3])
def test_engine_finds_optimum(name: str, instance: int) -> None:
    accounts = random_accounts(8, seed=100 + instance, territories=3)
    if name == "weighted-shares":
        accounts = accounts.drop(columns="owner")
    spec = spec_from_dict(SPECS[name])
    optimum = _optimum(build_model(encode(accounts, spec)).model)
    for seed in (0, 1, 2):
        plan = solve(accounts, spec, seed=seed, moves=100_000, relax=True)
        assert plan.cost >= optimum - 1e-9 * max(1.0, optimum)
        assert plan.cost == pytest.approx(optimum, rel=1e-9, abs=1e-12), f"seed {seed}"
