"""The search driver: greedy start, repair, annealing chains, local search, descent.

Where a scan of every relocation is cheap, steepest descent repairs the greedy start
(`_repair`), and when a keep gives units a home, iterated local search
(`smartplan.engine.ils`) takes the last ILS_SHARE of the schedule from each chain's best
plan. Python runs once per chunk of moves (1/64 of the budget): it records the cost trace,
keeps each chain's best plan by lexicographic comparison of the term costs, and checks the
time limit. The moves themselves run in the compiled kernels.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from smartplan.engine.anneal import (
    ACCEPTED_RELOCATE,
    ACCEPTED_SWAP,
    EVALUATED,
    ILS_ACCEPTED,
    ILS_ITERATIONS,
    N_COUNTERS,
    anneal_chains,
    sample_deltas,
)
from smartplan.engine.build import Built
from smartplan.engine.compare import lexicographic_less
from smartplan.engine.descent import descend
from smartplan.engine.greedy import greedy_start
from smartplan.engine.ils import ils_chains, log_size, max_steps, size_cdf
from smartplan.engine.kernels import recompute_state
from smartplan.engine.model import Model, State
from smartplan.engine.rng import chain_streams
from smartplan.engine.steepest import has_negative_values, relocation_reach, steepest_descent

logger = logging.getLogger("smartplan")

CHUNKS = 64
SWAP_SHARE = 0.3
# Share of the schedule (moves, or time under a time limit) that iterated local search
# takes, at its end, on models where it runs: a keep gives some unit a home, and a scan is
# cheap. Annealing runs before it. With 5% of annealing instead of 20%, the mean gap to the
# best known cost of three 500-account benchmark instances (10 seeds each) fell from 8.0%
# to 4.6%. With no annealing, the Fortune 1000 equitable scenario missed its account-count
# band at a budget of 3 million moves.
ILS_SHARE = 0.95
# Iterated local search and the steepest repair of the start run when one scan of every
# relocation costs at most this many move evaluations. On 5,000 units and 25 territories
# (120,000 per scan) a 5 s run spent its time in scans and ended with bands unmet.
SCAN_LIMIT = 20_000
# Move evaluations per second of a scan: an estimate above the rates measured (about 15
# million per second on the 1,000 Fortune accounts). It turns a time limit into a cap on
# the repair.
SCAN_RATE = 20_000_000
# Temperature of the acceptance test of iterated local search, in end temperatures of the
# annealing. The end temperature is at most 1/20 of the 5th percentile of sampled uphill
# deltas, so this is at most half that percentile. When a keep has the lowest priority,
# that percentile is about the cost of moving one account (an estimate from the samples).
ILS_HEAT = 10.0
# A kick of iterated local search returns 1 to KICK_HOME moved units home, and with
# probability KICK_RANDOM relocates one unit, drawn by size, to its best territory on flat
# weights. On three 500-account benchmark instances (20 seeds each) the mean gap to the
# best known cost was 5.1% with 6 and 6.5% with 12.
KICK_HOME = 6
KICK_RANDOM = 0.8
# Share of repairs that start with the pass on flat weights. The other repairs run only the
# pass on the true weights, which keeps the priorities that flat weights ignore.
FLAT_REPAIR = 0.5


# Maximum moves per chain in the first chunk of a run with a time limit. That chunk measures
# the move rate, and 20,000 moves are about 2 ms of annealing on 5,000 accounts. As a share
# of a 10-billion-move budget, the chunk outlasted a 0.6 s time limit, so the run ended
# before its local search.
FIRST_TIMED_CHUNK = 20_000


@dataclass
class SearchStats:
    """Run statistics of one search."""

    chains: int
    moves_budget: int
    moves_evaluated: int = 0
    relocations_accepted: int = 0
    swaps_accepted: int = 0
    descent_moves: int = 0
    repair_moves: int = 0
    ils_iterations: int = 0  # kicks tried by iterated local search
    ils_accepted: int = 0  # kicks kept
    seconds: float = 0.0
    anneal_seconds: float = 0.0  # wall time inside the compiled annealing chunks
    anneal_cpu_seconds: float = 0.0  # CPU time of all threads inside those chunks
    stopped_by: str = "move budget"
    t_start: float = 0.0
    t_end: float = 0.0
    greedy_cost: float = 0.0
    best_chain: int = 0
    trace: list[tuple[float, int, float]] = field(default_factory=list)

    @property
    def moves_per_second(self) -> float:
        return self.moves_evaluated / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SearchResult:
    assign: np.ndarray  # int32[U]
    costs: np.ndarray  # float64[C], unweighted term costs, recomputed from scratch
    violation: int
    stats: SearchStats


def default_moves(n_movable: int) -> int:
    """Move budget per chain: 20,000 per movable unit, between 200,000 and 50 million."""
    return int(min(max(20_000 * n_movable, 200_000), 50_000_000))


def weighted_cost(model: Model, costs: np.ndarray) -> float:
    return float(np.dot(model.weights, costs))


def run_search(
    built: Built,
    capacity: np.ndarray,
    seed: int,
    chains: int = 2,
    moves: int | None = None,
    time_limit: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SearchResult:
    """Search for the best plan of `built.model` and return it with statistics."""
    started = time.perf_counter()
    model = built.model
    budget = moves if moves is not None else default_moves(len(model.movable))
    stats = SearchStats(chains=chains, moves_budget=budget)

    start = greedy_start(model, built.preferred, capacity, seed)
    initial = recompute_state(model, start)
    stats.greedy_cost = weighted_cost(model, initial.costs)
    rngs = chain_streams(seed, chains + 1)
    t_start, t_end = _calibrate(model, initial, rngs[chains], chains)
    counters = np.zeros((chains, N_COUNTERS), dtype=np.int64)
    scan = len(model.movable) * max(model.n_territories - 1, 0) <= SCAN_LIMIT
    preferred = np.ascontiguousarray(built.preferred, dtype=np.int32)
    if scan:
        cap = _repair_cap(budget, time_limit)
        stats.repair_moves = _repair(model, preferred, initial, counters[0], cap)
        start = initial.assign.copy()
        initial = recompute_state(model, start)
    stats.t_start, stats.t_end = float(t_start[0]), float(t_end[0])

    states = [initial if c == 0 else _copy_state(initial) for c in range(chains)]
    stacked = [_stack_padded(arrays) for arrays in zip(*states, strict=True)]
    lengths = [len(array) for array in initial]
    unreached = np.full_like(initial.costs, np.inf)
    feasible_start = initial.violation[0] == 0
    best_costs = [initial.costs.copy() if feasible_start else unreached for _ in range(chains)]
    best_assign = [start.copy() for _ in range(chains)]

    per_chunk = max(1, math.ceil(budget / CHUNKS))
    done = 0
    ratio = np.divide(t_end, t_start, out=np.ones(chains), where=t_start > 0)
    schedule = _Schedule(budget, time_limit, started)
    # Iterated local search trades band gaps against accounts kept at home; without a
    # home territory annealing does better on its own.
    homes = bool((preferred >= 0).any())
    switch = 1.0 - ILS_SHARE if scan and homes else 1.0
    ils: _IteratedLocalSearch | None = None
    while done < budget:
        n = schedule.chunk(done, per_chunk)
        position = schedule.progress(done)
        chunk_started = time.perf_counter()
        chunk_cpu = time.process_time()
        evaluated = int(counters[:, EVALUATED].sum())
        if position < switch:
            if time_limit is None:
                n = max(1, min(n, math.ceil(switch * budget) - done))
            first = position / switch
            last = min(1.0, schedule.progress(done, n) / switch)
            anneal_chains(
                model,
                *stacked,
                rngs[:chains],
                n,
                t_start * ratio**first,
                t_start * ratio**last,
                SWAP_SHARE,
                counters,
            )
        else:
            if ils is None:
                ils = _IteratedLocalSearch(model, preferred, stacked, lengths, best_assign)
            ils.run(model, stacked, rngs[:chains], n, t_end * ILS_HEAT, counters)
        # A chunk of iterated local search can overshoot its share by one iteration.
        n = max(n, (int(counters[:, EVALUATED].sum()) - evaluated) // chains)
        schedule.record(n, time.perf_counter() - chunk_started)
        stats.anneal_cpu_seconds += time.process_time() - chunk_cpu
        done += n
        elapsed = time.perf_counter() - started
        for c in range(chains):
            costs = stacked[4][c][: lengths[4]]
            if stacked[5][c][0] == 0 and _improves(costs, stacked[5][c][0], best_costs[c]):
                best_costs[c] = costs.copy()
                best_assign[c] = stacked[0][c][: lengths[0]].copy()
            if ils is not None:
                found = ils.best_costs[c][: lengths[4]]
                if lexicographic_less(found, best_costs[c]):
                    best_costs[c] = found.copy()
                    best_assign[c] = ils.best_assign[c][: lengths[0]].copy()
            stats.trace.append((elapsed, c, weighted_cost(model, costs)))
        if time_limit is not None and elapsed >= time_limit:
            stats.stopped_by = "time limit"
            break
        if should_stop is not None and should_stop():
            stats.stopped_by = "interrupted"
            break

    results = []
    for c in range(chains):
        current = State(
            *(array[c][:length] for array, length in zip(stacked, lengths, strict=True))
        )
        final = recompute_state(model, current.assign)
        # On equal costs the checkpoint wins: it is the earliest plan with that cost, so a
        # start that is already optimal (a rerun of a plan that meets every band) is kept.
        reached = np.isfinite(best_costs[c]).all()
        if final.violation[0] > 0 or (
            reached and not lexicographic_less(final.costs, best_costs[c])
        ):
            final = recompute_state(model, best_assign[c])
        if stats.stopped_by != "interrupted":
            stats.descent_moves += descend(model, final, preferred)
        final = recompute_state(model, final.assign)
        results.append(final)

    best = 0
    for c in range(1, chains):
        if _better_state(results[c], results[best]):
            best = c
    stats.best_chain = best
    stats.anneal_seconds = schedule.anneal_seconds
    stats.moves_evaluated = int(counters[:, EVALUATED].sum())
    stats.relocations_accepted = int(counters[:, ACCEPTED_RELOCATE].sum())
    stats.swaps_accepted = int(counters[:, ACCEPTED_SWAP].sum())
    stats.ils_iterations = int(counters[:, ILS_ITERATIONS].sum())
    stats.ils_accepted = int(counters[:, ILS_ACCEPTED].sum())
    stats.seconds = time.perf_counter() - started
    logger.info(
        "search done: %d moves in %.2f s (%.1f M/s), stopped by %s",
        stats.moves_evaluated,
        stats.seconds,
        stats.moves_per_second / 1e6,
        stats.stopped_by,
    )
    chosen = results[best]
    return SearchResult(
        assign=chosen.assign,
        costs=chosen.costs,
        violation=int(chosen.violation[0]),
        stats=stats,
    )


class _Schedule:
    """Progress of the cooling schedule: the share of the move budget or of the time limit.

    With a time limit, progress is the larger of the two shares, so a run cut short by the
    clock still cools down to `t_end`. Chunks are then sized from the measured move rate to
    last about 1/CHUNKS of the time limit.
    """

    def __init__(self, budget: int, time_limit: float | None, started: float) -> None:
        self.budget = budget
        self.time_limit = time_limit
        self.started = started
        self.anneal_seconds = 0.0
        self.moves_done = 0

    def record(self, moves: int, seconds: float) -> None:
        self.moves_done += moves
        self.anneal_seconds += seconds

    def rate(self) -> float:
        """Moves per second per chain measured so far, or 0 before the first chunk."""
        return self.moves_done / self.anneal_seconds if self.anneal_seconds > 0 else 0.0

    def chunk(self, done: int, per_chunk: int) -> int:
        n = min(per_chunk, self.budget - done)
        if self.time_limit is None:
            return n
        rate = self.rate()
        if rate == 0.0:
            # The first chunk measures the rate: a small share of the budget, and few moves
            # where the budget is large (the clock, not the budget, then ends the run).
            return max(1, min(n, per_chunk // 16, FIRST_TIMED_CHUNK))
        return max(1, min(n, int(rate * self.time_limit / CHUNKS)))

    def progress(self, done: int, ahead: int = 0) -> float:
        """Schedule position in [0, 1] now, or after `ahead` more moves."""
        share = (done + ahead) / self.budget
        if self.time_limit is None:
            return min(1.0, share)
        elapsed = time.perf_counter() - self.started
        rate = self.rate()
        if ahead and rate > 0.0:
            elapsed += ahead / rate
        return min(1.0, max(share, elapsed / self.time_limit))


def _improves(costs: np.ndarray, violation: int, best: np.ndarray) -> bool:
    return violation == 0 and lexicographic_less(costs, best)


def _better_state(a: State, b: State) -> bool:
    if a.violation[0] != b.violation[0]:
        return bool(a.violation[0] < b.violation[0])
    return lexicographic_less(a.costs, b.costs)


def _stack_padded(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    """Stack per-chain arrays into one C-contiguous block, padded after each chain.

    The first axis is the chain. Each chain's array gets extra zero rows on its own first
    axis, at least 64 bytes, so parallel chains never write to one cache line. The kernels
    index only the real rows. The block is C-contiguous whatever the sizes and the chain
    count, so numba compiles one version of the annealing kernel for every model.
    """
    first = arrays[0]
    row_bytes = first.itemsize * int(np.prod(first.shape[1:], dtype=np.int64))
    extra = max(1, -(-64 // max(row_bytes, 1)))
    block = np.zeros((len(arrays), first.shape[0] + extra, *first.shape[1:]), dtype=first.dtype)
    for c, array in enumerate(arrays):
        block[c, : first.shape[0]] = array
    return block


def _copy_state(state: State) -> State:
    return State(*(np.array(array, copy=True) for array in state))


def _calibrate(
    model: Model, state: State, rng: np.ndarray, chains: int
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end temperatures (float64[chains]) from random moves at the greedy start.

    Even chains start hot: a median uphill delta is accepted with probability 1/2, which
    explores plans of every priority. Odd chains start cool, at the 5th percentile of the
    uphill deltas, about the lowest-priority term's delta: they keep the structure of the
    greedy start (accounts at home) and leave it only where a higher-priority term gains.
    On 5,000 benchmark accounts the hot start ended with 794 accounts moved and the cool
    one with 490, for the same bands. On 8-account instances without a keep, the hot start
    finds optima that the cool one misses. Both end at 1/20 of the 5th percentile (at most
    1/1000 of their start), so the last phase refines every term.
    """
    deltas = sample_deltas(model, state, rng, 2000)
    uphill = deltas[deltas > 0]
    if len(uphill) == 0:
        return np.full(chains, 1e-9), np.full(chains, 1e-12)
    low = float(np.quantile(uphill, 0.05))
    hot = float(np.median(uphill) / math.log(2.0))
    cool = low / math.log(2.0)
    starts = np.array([hot if c % 2 == 0 else cool for c in range(chains)])
    ends = np.minimum(low / 20.0, starts * 1e-3)
    return starts, np.maximum(ends, starts * 1e-15)


def flat_weights(weights: np.ndarray) -> np.ndarray:
    """Return weights that put every term at the lowest-priority term's weight.

    A term whose own weight is lower keeps it.
    """
    if weights.shape[0] == 0:
        return weights.copy()
    return np.minimum(weights, weights[-1])


def _repair_cap(budget: int, time_limit: float | None) -> int:
    """Most move evaluations the repair of the start may use: 1/5 of the budget.

    With a time limit, also 1/5 of the limit at SCAN_RATE evaluations per second.
    """
    cap = budget // 5
    if time_limit is not None:
        cap = min(cap, int(time_limit / 5 * SCAN_RATE))
    return max(cap, 1)


def _repair(
    model: Model, preferred: np.ndarray, state: State, counters: np.ndarray, cap: int
) -> int:
    """Run steepest descent on flat weights, then on the true ones; return the relocations
    applied (two per home swap).

    On flat weights a band gap is worth closing with a unit only when the unit closes
    more of it than moving the unit costs, so the largest units move first and a keep
    leaves few accounts away from home.
    """
    steps = max_steps(len(state.assign))
    log_unit = np.zeros(2 * steps, dtype=np.int32)
    log_from = np.zeros(2 * steps, dtype=np.int32)
    flat = model._replace(weights=flat_weights(model.weights))
    stop = int(counters[EVALUATED]) + cap
    signed = has_negative_values(model)
    applied = 0
    for guided in (flat, model):
        applied += steepest_descent(
            guided,
            state,
            steps,
            log_unit,
            log_from,
            0,
            counters,
            relocation_reach(guided),
            signed,
            preferred,
            stop,
        )
    return applied


class _IteratedLocalSearch:
    """Per-chain arrays of the iterated local search phase (`smartplan.engine.ils`).

    Every chain starts from its best plan so far.
    """

    def __init__(
        self,
        model: Model,
        preferred: np.ndarray,
        stacked: list[np.ndarray],
        lengths: list[int],
        best_assign: list[np.ndarray],
    ) -> None:
        chains = stacked[0].shape[0]
        for c in range(chains):
            state = recompute_state(model, best_assign[c])
            for block, array, length in zip(stacked, state, lengths, strict=True):
                block[c][:length] = array
        self.flat = flat_weights(model.weights)
        self.preferred = preferred
        self.size_cdf = size_cdf(model)
        self.reach_flat = relocation_reach(model._replace(weights=self.flat))
        self.reach = relocation_reach(model)
        self.signed = has_negative_values(model)
        self.steps = max_steps(lengths[0])
        self.best_assign = stacked[0].copy()
        self.best_costs = stacked[4].copy()
        for c in range(chains):
            if stacked[5][c][0] > 0:
                self.best_costs[c][: lengths[4]] = np.inf
        self.before = stacked[4].copy()
        size = log_size(lengths[0])
        self.log_unit = np.zeros((chains, size + 16), dtype=np.int32)
        self.log_from = np.zeros((chains, size + 16), dtype=np.int32)

    def run(
        self,
        model: Model,
        stacked: list[np.ndarray],
        rngs: np.ndarray,
        n: int,
        temperature: np.ndarray,
        counters: np.ndarray,
    ) -> None:
        ils_chains(
            model,
            *stacked,
            rngs,
            n,
            temperature,
            self.flat,
            self.preferred,
            self.size_cdf,
            self.reach_flat,
            self.reach,
            self.signed,
            self.steps,
            self.before,
            self.log_unit,
            self.log_from,
            self.best_assign,
            self.best_costs,
            counters,
            (KICK_HOME, KICK_RANDOM, FLAT_REPAIR),
        )
