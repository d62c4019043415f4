"""Compiled-kernel bookkeeping for sweep workers: cache counters and the warm-up task.

numba keeps compiled kernels in an on-disk cache (see `smartplan.engine`). A worker process
loads them from there at its first plan and compiles only on a cache miss. The counters
below tell the two apart, so every sweep row records whether its run compiled anything.

One kernel can have several compiled signatures. With two or more chains, the search
passes per-chain arrays whose numba layout is contiguous when they are empty and strided
otherwise, so a spec with soft groups or limits needs other signatures than one without.
The warm-up therefore plans one tiny table per combination of those features in the sweep.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import socket
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba.core.dispatcher import Dispatcher

import smartplan.engine
from smartplan.spec import (
    Balance,
    Group,
    Keep,
    Limit,
    PlanSpec,
    Search,
    Weight,
    numbered_territories,
)


@dataclass(frozen=True)
class WarmupCase:
    """The spec features that select a kernel signature."""

    chains: int
    balance: bool
    soft_group: bool
    limit: bool


def warmup_cases(specs: Iterable[PlanSpec]) -> list[WarmupCase]:
    """Return the distinct kernel signature cases of the specs of a sweep.

    Territory caps of a [[territories]] table are not counted, because a sweep replaces the
    table by numbered territories.
    """
    cases = {
        WarmupCase(
            chains=spec.search.chains,
            balance=any(isinstance(c, Balance | Weight) for c in spec.criteria),
            soft_group=any(isinstance(c, Group) and c.mode == "soft" for c in spec.criteria),
            limit=any(isinstance(c, Limit) for c in spec.criteria)
            or spec.max_accounts is not None
            or spec.min_accounts is not None,
        )
        for spec in specs
    }
    return sorted(cases, key=lambda case: tuple(vars(case).values()))


def worker_name() -> str:
    """Return `host:pid` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def kernel_cache_counts() -> tuple[int, int]:
    """Return (kernels compiled, kernels loaded from the disk cache) in this process so far.

    The counts are numba's per-signature cache misses and hits, summed over the compiled
    functions of `smartplan.engine`.
    """
    compiled = loaded = 0
    for dispatcher in _engine_dispatchers():
        compiled += sum(dispatcher.stats.cache_misses.values())
        loaded += sum(dispatcher.stats.cache_hits.values())
    return compiled, loaded


def _engine_dispatchers() -> list[Dispatcher]:
    """Return each compiled function of the engine once, also when several modules import it."""
    found: dict[int, Dispatcher] = {}
    for info in pkgutil.iter_modules(smartplan.engine.__path__, "smartplan.engine."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Dispatcher):
                found[id(value)] = value
    return list(found.values())


def warm_up(cases: Iterable[WarmupCase] = ()) -> dict[str, Any]:
    """Plan a tiny synthetic table per case so that this process loads or compiles the kernels.

    With no cases, it plans one balanced table with two chains. Returns the worker name,
    the kernels compiled and loaded by the warm-up, and its seconds.
    """
    from smartplan.plan import solve

    started = time.perf_counter()
    before = kernel_cache_counts()
    accounts = pd.DataFrame(
        {
            "account_id": [f"W{i}" for i in range(8)],
            "revenue": np.arange(1.0, 9.0),
            "family": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "owner": ["T01", "T02"] * 4,
        }
    )
    for case in list(cases) or [WarmupCase(2, True, False, False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            solve(accounts, _case_spec(case), seed=0, moves=64)
    after = kernel_cache_counts()
    return {
        "worker": worker_name(),
        "kernels_compiled": after[0] - before[0],
        "kernels_loaded": after[1] - before[1],
        "seconds": time.perf_counter() - started,
    }


def _case_spec(case: WarmupCase) -> PlanSpec:
    # A keep gives units a home, so the plan also runs the iterated local search kernels.
    criteria: list[Balance | Keep | Group | Limit] = (
        [Balance(metric="revenue"), Keep(owner="owner")] if case.balance else [Keep(owner="owner")]
    )
    if case.soft_group:
        criteria.append(Group(field="family", mode="soft"))
    if case.limit:
        criteria.append(Limit(max=8))
    return PlanSpec(
        territories=numbered_territories(2),
        criteria=tuple(criteria),
        search=Search(chains=case.chains),
    )
