"""The search driver: greedy start, calibrated annealing chains, checkpoints, descent.

Python runs once per chunk of moves (1/64 of the budget): it records the cost trace, keeps
each chain's best plan by lexicographic comparison of the term costs, and checks the time
limit. The moves themselves run in the compiled kernels.
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
    N_COUNTERS,
    anneal_chains,
    sample_deltas,
)
from smartplan.engine.build import Built
from smartplan.engine.descent import descend
from smartplan.engine.greedy import greedy_start
from smartplan.engine.kernels import recompute_state
from smartplan.engine.model import Model, State
from smartplan.engine.rng import chain_streams

logger = logging.getLogger("smartplan")

CHUNKS = 64
SWAP_SHARE = 0.3
# Relative tolerance when costs are compared term by term.
COST_EPSILON = 1e-12


@dataclass
class SearchStats:
    """Run statistics of one search."""

    chains: int
    moves_budget: int
    moves_evaluated: int = 0
    relocations_accepted: int = 0
    swaps_accepted: int = 0
    descent_moves: int = 0
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


def lexicographic_less(a: np.ndarray, b: np.ndarray) -> bool:
    """True when cost vector `a` is better than `b` in priority order."""
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        margin = COST_EPSILON * max(abs(x), abs(y)) if math.isfinite(x + y) else 0.0
        if x < y - margin:
            return True
        if x > y + margin:
            return False
    return False


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
    stats.t_start, stats.t_end = float(t_start[0]), float(t_end[0])

    states = [initial if c == 0 else _copy_state(initial) for c in range(chains)]
    stacked = [_stack_padded(arrays) for arrays in zip(*states, strict=True)]
    lengths = [len(array) for array in initial]
    counters = np.zeros((chains, N_COUNTERS), dtype=np.int64)
    unreached = np.full_like(initial.costs, np.inf)
    feasible_start = initial.violation[0] == 0
    best_costs = [initial.costs.copy() if feasible_start else unreached for _ in range(chains)]
    best_assign = [start.copy() for _ in range(chains)]

    per_chunk = max(1, math.ceil(budget / CHUNKS))
    done = 0
    ratio = np.divide(t_end, t_start, out=np.ones(chains), where=t_start > 0)
    schedule = _Schedule(budget, time_limit, started)
    while done < budget:
        n = schedule.chunk(done, per_chunk)
        chunk_start = t_start * ratio ** schedule.progress(done)
        chunk_end = t_start * ratio ** schedule.progress(done, n)
        chunk_started = time.perf_counter()
        chunk_cpu = time.process_time()
        anneal_chains(
            model, *stacked, rngs[:chains], n, chunk_start, chunk_end, SWAP_SHARE, counters
        )
        schedule.record(n, time.perf_counter() - chunk_started)
        stats.anneal_cpu_seconds += time.process_time() - chunk_cpu
        done += n
        elapsed = time.perf_counter() - started
        for c in range(chains):
            costs = stacked[4][c][: lengths[4]]
            if stacked[5][c][0] == 0 and _improves(costs, stacked[5][c][0], best_costs[c]):
                best_costs[c] = costs.copy()
                best_assign[c] = stacked[0][c][: lengths[0]].copy()
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
            stats.descent_moves += descend(model, final)
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
            # The first chunk measures the rate: a small share of the budget.
            return max(1, min(n, per_chunk // 16))
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
