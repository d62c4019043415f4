"""Incremental sums, costs and deltas against a full recomputation after random moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.engine.kernels import (
    recompute_state,
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_apply,
    swap_delta,
    swap_violation,
)
from smartplan.engine.search import weighted_cost
from smartplan.metrics import score
from smartplan.spec import spec_from_dict

from .conftest import random_accounts

SPEC = {
    "plan": {"territories": 4, "max_accounts": 12},
    "accounts": {"owner": "owner"},
    "criteria": [
        {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
        {"kind": "balance", "where": 'tier == "A"', "tolerance": 0.2},
        {"kind": "keep", "owner": "owner", "where": "revenue > 20", "metric": "revenue"},
        {"kind": "group", "field": "family", "mode": "soft"},
        {"kind": "limit", "max": 5, "where": "employees >= 2500"},
        {"kind": "balance", "metric": "employees"},
    ],
}


def _model(seed: int):
    accounts = random_accounts(30, seed, territories=4)
    encoding = encode(accounts, spec_from_dict(SPEC))
    return encoding, build_model(encoding).model


def _assert_state_matches(model, state) -> None:
    fresh = recompute_state(model, state.assign)
    np.testing.assert_allclose(state.bal_sums, fresh.bal_sums, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(state.group_counts, fresh.group_counts)
    np.testing.assert_array_equal(state.limit_counts, fresh.limit_counts)
    np.testing.assert_allclose(state.costs, fresh.costs, rtol=1e-9, atol=1e-12)
    assert state.violation[0] == fresh.violation[0]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    moves=st.lists(
        st.tuples(st.booleans(), st.integers(0, 10_000), st.integers(0, 10_000)),
        min_size=1,
        max_size=40,
    ),
)
def test_moves_match_recomputation(seed: int, moves: list[tuple[bool, int, int]]) -> None:
    _encoding, model = _model(seed)
    rng = np.random.default_rng(seed)
    start = rng.integers(0, model.n_territories, model.unit_pin.shape[0]).astype(np.int32)
    state = recompute_state(model, start)
    for is_swap, first, second in moves:
        u = first % model.unit_pin.shape[0]
        before = weighted_cost(model, state.costs)
        violation_before = state.violation[0]
        if is_swap:
            v = second % model.unit_pin.shape[0]
            if state.assign[u] == state.assign[v]:
                continue
            delta = swap_delta(model, state, u, v)
            violation = swap_violation(model, state, u, v)
            swap_apply(model, state, u, v)
        else:
            a = state.assign[u]
            b = second % model.n_territories
            if a == b:
                continue
            delta = relocate_delta(model, state, u, a, b)
            violation = relocate_violation(model, state, u, a, b)
            relocate_apply(model, state, u, a, b)
        _assert_state_matches(model, state)
        after = weighted_cost(model, recompute_state(model, state.assign).costs)
        assert np.isclose(after - before, delta, rtol=1e-7, atol=1e-9 * max(1.0, abs(before)))
        assert state.violation[0] - violation_before == violation


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_scorecard_cost_matches_engine(seed: int) -> None:
    """The per-account scorecard and the per-unit engine state give the same term costs."""
    encoding, model = _model(seed)
    rng = np.random.default_rng(seed)
    assign = rng.integers(0, model.n_territories, model.unit_pin.shape[0]).astype(np.int32)
    state = recompute_state(model, assign)
    card = score(encoding, assign[encoding.unit])
    np.testing.assert_allclose(card.term_costs(), state.costs, rtol=1e-9, atol=1e-12)
    assert np.isclose(card.cost, weighted_cost(model, state.costs), rtol=1e-9)


def test_swap_equals_two_relocations() -> None:
    _encoding, model = _model(3)
    state = recompute_state(model, np.arange(model.unit_pin.shape[0]) % model.n_territories)
    u, v = 0, 1
    a, b = state.assign[u], state.assign[v]
    assert a != b
    swap = swap_delta(model, state, u, v)
    first = relocate_delta(model, state, u, a, b)
    relocate_apply(model, state, u, a, b)
    second = relocate_delta(model, state, v, b, a)
    assert np.isclose(swap, first + second, rtol=1e-9, atol=1e-12)


def test_hard_group_moves_as_unit() -> None:
    accounts = pd.DataFrame(
        {"account_id": ["a", "b", "c"], "parent": ["x", "x", None], "revenue": [1.0, 2.0, 3.0]}
    )
    spec = spec_from_dict(
        {
            "plan": {"territories": 2},
            "criteria": [
                {"kind": "group", "field": "parent"},
                {"kind": "balance", "metric": "revenue"},
            ],
        }
    )
    encoding = encode(accounts, spec)
    assert encoding.n_units == 2
    assert encoding.unit[0] == encoding.unit[1]
    model = build_model(encoding).model
    np.testing.assert_allclose(model.bal_values[:, 0], [3.0, 3.0])
