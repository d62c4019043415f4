"""Steepest descent, iterated local search and the priority-order comparison."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smartplan.encode import encode
from smartplan.engine import descent
from smartplan.engine.anneal import EVALUATED, ILS_ITERATIONS, N_COUNTERS
from smartplan.engine.build import build_model
from smartplan.engine.compare import lexicographic_less
from smartplan.engine.descent import is_local_optimum, return_home
from smartplan.engine.greedy import greedy_start
from smartplan.engine.ils import ils_chain, log_size, max_steps, size_cdf
from smartplan.engine.kernels import (
    recompute_state,
    relocate_apply,
    relocate_delta,
    relocate_violation,
    swap_delta,
    swap_violation,
)
from smartplan.engine.rng import chain_streams
from smartplan.engine.search import flat_weights
from smartplan.engine.steepest import (
    _best_home_swap,
    has_negative_values,
    relocation_reach,
    steepest_descent,
)
from smartplan.plan import solve
from smartplan.spec import spec_from_dict

from .conftest import random_accounts

UNLIMITED = np.iinfo(np.int64).max

SPEC = {
    "plan": {"territories": 4, "max_accounts": 14},
    "accounts": {"owner": "owner"},
    "criteria": [
        {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
        {"kind": "balance", "where": 'tier == "A"', "tolerance": 0.2},
        {"kind": "keep", "owner": "owner", "where": "revenue > 20", "metric": "revenue"},
        {"kind": "balance", "metric": "employees", "tolerance": 0.1},
        {"kind": "keep", "owner": "owner"},
    ],
}


def _built(seed: int, n: int = 30):
    accounts = random_accounts(n, seed, territories=4)
    return build_model(encode(accounts, spec_from_dict(SPEC)))


def _start(built, seed: int):
    model = built.model
    capacity = np.ones(model.n_territories)
    return recompute_state(model, greedy_start(model, built.preferred, capacity, seed))


def _assert_same_state(model, state, assign) -> None:
    fresh = recompute_state(model, assign)
    np.testing.assert_array_equal(state.assign, fresh.assign)
    np.testing.assert_allclose(state.bal_sums, fresh.bal_sums, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(state.costs, fresh.costs, rtol=1e-9, atol=1e-12)
    assert state.violation[0] == fresh.violation[0]


def _empty_log(n_units: int) -> tuple[np.ndarray, np.ndarray]:
    size = log_size(n_units)
    return np.zeros(size, dtype=np.int32), np.zeros(size, dtype=np.int32)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_steepest_ends_at_local_optimum(seed: int) -> None:
    built = _built(seed)
    model = built.model
    state = _start(built, seed)
    log_unit, log_from = _empty_log(len(state.assign))
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    steps = max_steps(len(state.assign))
    n_log = steepest_descent(
        model,
        state,
        steps,
        log_unit,
        log_from,
        0,
        counters,
        relocation_reach(model),
        has_negative_values(model),
        built.preferred,
        UNLIMITED,
    )
    assert n_log < steps
    assert state.violation[0] == 0
    assert is_local_optimum(model, state)
    assert counters[EVALUATED] > 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_steepest_log_undoes_exactly(seed: int) -> None:
    built = _built(seed)
    model = built.model
    state = _start(built, seed)
    original = state.assign.copy()
    log_unit, log_from = _empty_log(len(state.assign))
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    flat = model._replace(weights=flat_weights(model.weights))
    steps = max_steps(len(state.assign))
    n_log = steepest_descent(
        flat,
        state,
        steps,
        log_unit,
        log_from,
        0,
        counters,
        relocation_reach(flat),
        has_negative_values(flat),
        built.preferred,
        UNLIMITED,
    )
    _assert_same_state(model, state, state.assign.copy())
    for k in range(n_log - 1, -1, -1):
        u = log_unit[k]
        relocate_apply(model, state, u, state.assign[u], log_from[k])
    _assert_same_state(model, state, original)


def _best_relocation(model, state) -> tuple[int, int]:
    """The relocation a full scan picks: least violation, then least delta, first found."""
    best = (-1, -1)
    best_delta = -1e-12
    best_violation = 0
    for u in model.movable:
        a = int(state.assign[u])
        for b in range(model.n_territories):
            if b == a:
                continue
            violation = relocate_violation(model, state, u, a, b)
            if violation > best_violation:
                continue
            delta = relocate_delta(model, state, u, a, b)
            if violation < best_violation or delta < best_delta:
                best, best_delta, best_violation = (int(u), b), delta, violation
    return best


def _perturbed(built, seed: int, negative: bool):
    """A model (flat or true weights, maybe with a balance term of both signs, bands moved)
    and a state that a few random relocations have pushed about."""
    rng = np.random.default_rng(seed)
    model = built.model
    if seed % 2:
        model = model._replace(weights=flat_weights(model.weights))
    if negative:
        # The first balance term mirrored (all values negative), or of both signs.
        values = model.bal_values.copy()
        lo, hi = model.bal_lo.copy(), model.bal_hi.copy()
        if seed % 3:
            values[:, 0] = -values[:, 0]
            lo[0], hi[0] = -model.bal_hi[0], -model.bal_lo[0]
        else:
            values[:, 0] -= values[:, 0].mean()
        model = model._replace(bal_values=values, bal_lo=lo, bal_hi=hi)
    # Bands moved at random, so that some territories lie only above or only below them.
    edges = np.sort(
        np.stack([model.bal_lo, model.bal_hi]) * rng.uniform(0.6, 1.4, (2, *model.bal_lo.shape)),
        axis=0,
    )
    model = model._replace(bal_lo=edges[0], bal_hi=edges[1])
    state = recompute_state(model, _start(built, seed).assign)
    for _ in range(int(rng.integers(0, 6))):
        u = int(rng.choice(model.movable))
        b = int(rng.integers(model.n_territories))
        if b != state.assign[u] and relocate_violation(model, state, u, state.assign[u], b) <= 0:
            relocate_apply(model, state, u, state.assign[u], b)
    return model, state


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), negative=st.booleans(), signed=st.booleans())
def test_steepest_step_matches_full_scan(seed: int, negative: bool, signed: bool) -> None:
    """The scan skips only relocations that cannot improve: each step is the full scan's.

    `signed` may also be set on values of one sign, which only widens the scan.
    """
    built = _built(seed)
    model, state = _perturbed(built, seed, negative)
    signed = signed or has_negative_values(model)
    log_unit, log_from = _empty_log(len(state.assign))
    for _ in range(8):
        expected = _best_relocation(model, state)
        swap = _best_home_swap_of_all(model, state, built.preferred)
        where = state.assign.copy()
        counters = np.zeros(N_COUNTERS, dtype=np.int64)
        n_log = steepest_descent(
            model,
            state,
            1,
            log_unit,
            log_from,
            0,
            counters,
            relocation_reach(model),
            signed,
            built.preferred,
            UNLIMITED,
        )
        if expected[0] >= 0:
            assert n_log == 1
            assert (int(log_unit[0]), int(state.assign[log_unit[0]])) == expected
        elif swap[0] >= 0:
            u, v = swap
            assert n_log == 2
            assert (int(log_unit[0]), int(log_unit[1])) == (u, v)
            assert state.assign[u] == built.preferred[u]
            assert state.assign[v] == where[u]
        else:
            assert n_log == 0
            break


def _best_home_swap_of_all(model, state, preferred) -> tuple[int, int]:
    """The home swap the descent picks when no relocation improves: least violation, then
    least delta, first found in the order of units, then of their home's units."""
    best = (-1, -1)
    best_delta = -1e-12
    best_violation = 0
    for u in model.movable:
        home = preferred[u]
        if home < 0 or home == state.assign[u]:
            continue
        for v in model.movable:
            if state.assign[v] != home:
                continue
            violation = swap_violation(model, state, u, v)
            if violation > best_violation:
                continue
            delta = swap_delta(model, state, u, v)
            if violation < best_violation or delta < best_delta:
                best, best_delta, best_violation = (int(u), int(v)), delta, violation
    return best


def test_steepest_ends_without_home_swap() -> None:
    """The descent ends only when no relocation and no home swap improves.

    It runs one step per call, so the steps that are home swaps (two log entries) can be
    counted: some must be, or the test would not check one.
    """
    swaps = 0
    for seed in range(12):
        built = _built(seed, n=40)
        model, state = _perturbed(built, seed, negative=False)
        log_unit, log_from = _empty_log(len(state.assign))
        counters = np.zeros(N_COUNTERS, dtype=np.int64)
        reach = relocation_reach(model)
        n_log = 0
        for _ in range(max_steps(len(state.assign))):
            step = steepest_descent(
                model,
                state,
                1,
                log_unit,
                log_from,
                n_log,
                counters,
                reach,
                False,
                built.preferred,
                UNLIMITED,
            )
            if step == n_log:
                break
            swaps += step - n_log == 2
            n_log = step
        assert _best_relocation(model, state) == (-1, -1)
        assert _best_home_swap_of_all(model, state, built.preferred) == (-1, -1)
        _assert_same_state(model, state, state.assign.copy())
    assert swaps > 0


def test_costly_swap_scan_skipped() -> None:
    """Every unit away from home on 2 territories: a swap scan would pair each unit with
    about 20 others, 10 times the 40 evaluations of a relocation scan, so it is skipped
    (one evaluation counted) although a swap would improve."""
    accounts = random_accounts(40, 5, territories=2)
    spec = {**SPEC, "plan": {"territories": 2}}
    built = build_model(encode(accounts, spec_from_dict(spec)))
    model = built.model
    wide = model._replace(
        bal_lo=np.full_like(model.bal_lo, -np.inf), bal_hi=np.full_like(model.bal_hi, np.inf)
    )
    state = recompute_state(wide, (1 - built.preferred).astype(np.int32))
    assert (state.assign != built.preferred).all()
    assert _best_home_swap_of_all(wide, state, built.preferred)[0] >= 0
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    n_units = len(model.movable)
    found = _best_home_swap(
        wide,
        state,
        built.preferred,
        np.empty(n_units, dtype=np.int32),
        np.zeros(3, dtype=np.int64),
        counters,
    )
    assert found == (-1, -1)
    assert counters[EVALUATED] == 1


def test_scan_skips_territories_within_bands() -> None:
    """With every band held, a scan tries every territory only for units away from home.

    The bands are widened to hold anything and every unit starts at home; then two units
    are moved away. The true weights keep the reach bound from skipping any unit, so each
    unit at home costs one evaluation and each unit away one per other territory.
    """
    built = _built(3)
    model = built.model
    wide = model._replace(
        bal_lo=np.full_like(model.bal_lo, -np.inf), bal_hi=np.full_like(model.bal_hi, np.inf)
    )
    state = recompute_state(wide, built.preferred.astype(np.int32))
    for u in model.movable[:2]:
        relocate_apply(wide, state, u, state.assign[u], (state.assign[u] + 1) % 4)
    log_unit, log_from = _empty_log(len(state.assign))
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    n_log = steepest_descent(
        wide,
        state,
        1,
        log_unit,
        log_from,
        0,
        counters,
        relocation_reach(wide),
        False,
        built.preferred,
        UNLIMITED,
    )
    assert n_log == 1
    assert int(log_unit[0]) in model.movable[:2]
    assert counters[EVALUATED] == len(model.movable) - 2 + 2 * 3


def test_reach_bounds_every_skipped_move() -> None:
    """A unit at home whose keep cost reaches its bound has no improving relocation.

    Only flat weights make a keep cost that large. The test requires that some units pass
    the check at all, so it cannot pass without looking at one.
    """
    checked = 0
    for seed in range(30):
        built = _built(seed)
        model = built.model._replace(weights=flat_weights(built.model.weights))
        state = _start(built, seed)
        rng = np.random.default_rng(seed)
        for _ in range(10):
            u = int(rng.choice(model.movable))
            b = int(rng.integers(model.n_territories))
            a = int(state.assign[u])
            if a != b and relocate_violation(model, state, u, a, b) <= 0:
                relocate_apply(model, state, u, a, b)
        reach = relocation_reach(model)
        for i, u in enumerate(model.movable):
            a = int(state.assign[u])
            entries = range(model.keep_ptr[u], model.keep_ptr[u + 1])
            if not entries or any(model.keep_home[e] != a for e in entries):
                continue
            slots = [model.keep_slot[e] for e in entries]
            leaving = sum(
                model.weights[model.keep_term[slot]] * model.keep_value[e] * model.keep_scale[slot]
                for e, slot in zip(entries, slots, strict=True)
            )
            if leaving < reach[i]:
                continue
            checked += 1
            for b in range(model.n_territories):
                if b != a:
                    assert relocate_delta(model, state, u, a, b) >= -1e-12
    assert checked >= 10


def _run_ils(built, state, seed: int, moves: int):
    model = built.model
    n_units = len(state.assign)
    best_assign = state.assign.copy()
    best_costs = state.costs.copy()
    log_unit, log_from = _empty_log(n_units)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    flat = flat_weights(model.weights)
    ils_chain(
        model,
        flat,
        built.preferred.astype(np.int32),
        size_cdf(model),
        relocation_reach(model._replace(weights=flat)),
        relocation_reach(model),
        has_negative_values(model),
        state,
        chain_streams(seed, 1)[0],
        moves,
        1e-4,
        max_steps(n_units),
        np.zeros_like(state.costs),
        log_unit,
        log_from,
        best_assign,
        best_costs,
        counters,
        (6, 0.8, 0.5),
    )
    return best_assign, best_costs, counters


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_ils_keeps_consistent_state_and_best(seed: int) -> None:
    built = _built(seed)
    model = built.model
    state = _start(built, seed)
    start_costs = state.costs.copy()
    best_assign, best_costs, counters = _run_ils(built, state, seed, 20_000)
    assert counters[ILS_ITERATIONS] > 0
    assert counters[EVALUATED] >= 20_000
    # The chain's own sums and costs still match a recomputation after every undo.
    _assert_same_state(model, state, state.assign.copy())
    # The best plan's recomputed costs match the recorded ones and are no worse than the start.
    best = recompute_state(model, best_assign)
    np.testing.assert_allclose(best.costs, best_costs, rtol=1e-9, atol=1e-12)
    assert best.violation[0] == 0
    assert not lexicographic_less(start_costs, best.costs)


def test_ils_is_reproducible() -> None:
    built = _built(5, n=40)
    first = _run_ils(built, _start(built, 5), 9, 30_000)
    second = _run_ils(built, _start(built, 5), 9, 30_000)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_compare_reads_priority_order() -> None:
    assert lexicographic_less(np.array([0.0, 5.0]), np.array([0.1, 0.0]))
    assert not lexicographic_less(np.array([0.1, 0.0]), np.array([0.0, 5.0]))
    assert lexicographic_less(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
    assert not lexicographic_less(np.array([0.0, 2.0]), np.array([0.0, 2.0]))


def test_compare_ignores_rounding_noise() -> None:
    # A sum of many float updates leaves about 1e-17 where the true cost is 0.
    assert not lexicographic_less(np.array([-7e-18, 0.5]), np.array([0.0, 0.1]))
    assert lexicographic_less(np.array([7e-18, 0.1]), np.array([0.0, 0.5]))


def test_compare_finite_beats_unreached() -> None:
    assert lexicographic_less(np.array([3.0, 1.0]), np.array([np.inf, np.inf]))
    assert not lexicographic_less(np.array([np.inf, np.inf]), np.array([3.0, 1.0]))


def test_ils_ends_when_no_move_is_possible() -> None:
    """Every account at home, every territory at its cap, a keep only: nothing can move.

    The search used to spin forever here, so the plan runs in a subprocess with a timeout.
    """
    code = """
import numpy as np, pandas as pd
from smartplan import solve, spec_from_dict
accounts = pd.DataFrame({
    "account_id": [f"A{i}" for i in range(10)],
    "revenue": np.arange(1.0, 11.0),
    "owner": ["T01", "T02"] * 5,
})
spec = spec_from_dict({
    "plan": {"territories": 2, "max_accounts": 5},
    "accounts": {"owner": "owner"},
    "criteria": [{"kind": "keep", "owner": "owner"}],
})
plan = solve(accounts, spec, seed=1, moves=1000)
print(int(plan.assignment["moved"].sum()), plan.stats.ils_iterations)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    moved, iterations = (int(word) for word in done.stdout.split())
    assert moved == 0
    assert iterations > 0


def test_repair_and_ils_keep_to_the_budget() -> None:
    """A start far from the bands: the repair and each local-search chunk respect the budget.

    80% of 20,000 accounts start in one of 2 territories, so a full repair would take
    thousands of scans of 20,000 relocations.
    """
    accounts = random_accounts(20_000, 3, territories=2)
    rng = np.random.default_rng(0)
    accounts["owner"] = np.where(rng.random(len(accounts)) < 0.8, "T01", "T02")
    spec = spec_from_dict(
        {
            "plan": {"territories": 2},
            "accounts": {"owner": "owner"},
            "criteria": [
                {"kind": "keep", "owner": "owner"},
                {"kind": "balance", "tolerance": 0.02},
                {"kind": "balance", "metric": "revenue", "tolerance": 0.02},
            ],
        }
    )
    budget = 400_000
    plan = solve(accounts, spec, seed=1, moves=budget, chains=2)
    stats = plan.stats
    assert stats.ils_iterations > 0
    # The repair may use 1/5 of one chain's budget, and a chunk may end one scan and one
    # kick late: 2 descents of 20,000 evaluations each, per chunk and chain.
    slack = budget // 5 + 64 * 2 * 2 * 20_000
    assert stats.moves_evaluated <= 2 * budget + slack


def test_timed_vast_budget_reaches_ils() -> None:
    """A move budget far beyond the time limit: the clock ends the run after local search.

    The first chunk of a timed run measures the move rate. Sized as a share of a budget of
    10^12 moves, it took a billion moves, far past the time limit, and the run never
    reached the local search. The warm-up loads the kernels, so the timed run does not.
    """
    accounts = random_accounts(50, 4, territories=4)
    spec = spec_from_dict(SPEC)
    solve(accounts, spec, seed=1, moves=20_000)
    plan = solve(accounts, spec, seed=1, moves=10**12, time_limit=1.0)
    assert plan.stats.stopped_by == "time limit"
    assert plan.stats.ils_iterations > 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_return_home_leaves_no_improving_return(seed: int) -> None:
    """From a random plan, the passes end where no return home improves or is feasible."""
    built = _built(seed)
    model = built.model
    rng = np.random.default_rng(seed)
    assign = rng.integers(0, model.n_territories, model.unit_pin.shape[0]).astype(np.int32)
    assign[model.unit_pin >= 0] = model.unit_pin[model.unit_pin >= 0]
    state = recompute_state(model, assign)
    before = state.costs.copy()
    violation = state.violation[0]
    while return_home(model, state, built.preferred) > 0:
        pass
    _assert_same_state(model, state, state.assign)
    assert state.violation[0] <= violation
    if state.violation[0] == violation:
        assert model.weights @ state.costs <= model.weights @ before
    for u in model.movable:
        home = built.preferred[u]
        a = state.assign[u]
        if home < 0 or home == a:
            continue
        if relocate_violation(model, state, u, a, home) <= 0:
            assert relocate_violation(model, state, u, a, home) == 0
            assert relocate_delta(model, state, u, a, home) >= -1e-12


def test_large_model_descent_returns_units_home(monkeypatch) -> None:
    """Above the scan limit the final descent still brings moved units home."""
    built = _built(5)
    model = built.model
    state = recompute_state(model, np.zeros(model.unit_pin.shape[0], dtype=np.int32))
    away = int((state.assign[model.movable] != built.preferred[model.movable]).sum())
    monkeypatch.setattr(descent, "RELOCATION_SCAN_LIMIT", 0)
    returned = descent.descend(model, state, built.preferred)
    assert away > 0
    assert returned > 0
    assert descent.descend(model, state, built.preferred) == 0
    _assert_same_state(model, state, state.assign)
