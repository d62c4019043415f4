"""Run one solver on one instance in this process and print one JSON record.

`benchmarks/run.py` starts this script in a fresh subprocess per run, so the peak resident
memory it reports (getrusage of this process) belongs to that run alone. Imports and the
loading of the cached numba kernels happen before the clock starts.

Usage: python benchmarks/run_one.py --solver smartplan --table T.parquet --spec T.toml
       [--time-limit S] [--moves N] [--threads K] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

SOLVERS = ("smartplan", "highs", "cp-sat", "moves-bound")


def criteria_figures(scorecard: Any) -> list[dict[str, Any]]:
    """Per criterion: label, kind, cost, largest relative deviation, whether the band holds."""
    rows = []
    for row in scorecard.criteria.to_dict(orient="records"):
        rows.append(
            {
                "priority": int(row["priority"]),
                "criterion": str(row["criterion"]),
                "kind": str(row["kind"]),
                "cost": float(row["cost"]),
                "max_deviation": _optional_float(row.get("max_deviation")),
                "band_holds": _optional_bool(row.get("band_holds")),
            }
        )
    return rows


def _optional_float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _optional_bool(value: Any) -> bool | None:
    return None if value is None or pd.isna(value) else bool(value)


def run_smartplan(
    accounts: pd.DataFrame,
    spec: str,
    time_limit: float | None,
    moves: int | None,
    threads: int,
    seed: int,
) -> dict[str, Any]:
    from smartplan import solve

    started = time.perf_counter()
    plan = solve(accounts, spec, seed=seed, time_limit=time_limit, moves=moves, chains=threads)
    seconds = time.perf_counter() - started
    stats = plan.stats
    offset = seconds - stats.seconds  # encode before the search clock started
    best = np.inf
    trace = []
    for elapsed, _chain, cost in stats.trace:
        if cost < best:
            best = cost
            trace.append((elapsed + offset, cost))
    trace.append((seconds, plan.cost))
    return {
        "status": "heuristic",
        "cost": plan.cost,
        "bound": None,
        "seconds": seconds,
        "search_seconds": stats.seconds,
        "anneal_seconds": stats.anneal_seconds,
        "moves_evaluated": stats.moves_evaluated,
        "anneal_cpu_seconds": stats.anneal_cpu_seconds,
        "chains": stats.chains,
        # Per chain in wall time, and per core in CPU time (all threads), which does not
        # count the time other processes hold the cores.
        "moves_per_second_per_chain": (
            stats.moves_evaluated / stats.anneal_seconds / stats.chains
            if stats.anneal_seconds > 0
            else 0.0
        ),
        "moves_per_cpu_second": (
            stats.moves_evaluated / stats.anneal_cpu_seconds
            if stats.anneal_cpu_seconds > 0
            else 0.0
        ),
        "stopped_by": stats.stopped_by,
        "scorecard": plan.scorecard,
        "trace": trace,
    }


def run_exact(
    solver: str, accounts: pd.DataFrame, spec: str, time_limit: float, threads: int, seed: int
) -> dict[str, Any]:
    from smartplan.baselines import solve_cpsat, solve_mip

    function = solve_mip if solver == "highs" else solve_cpsat
    started = time.perf_counter()
    result = function(accounts, spec, time_limit=time_limit, threads=threads, seed=seed)
    seconds = time.perf_counter() - started
    stats = result.stats
    offset = stats.seconds - stats.solve_seconds  # encode and build before the solver clock
    return {
        "status": result.status,
        "cost": result.cost if result.scorecard is not None else None,
        "bound": result.bound if np.isfinite(result.bound) else None,
        "objective_error": stats.objective_error,
        "seconds": seconds,
        "build_seconds": stats.build_seconds,
        "solve_seconds": stats.solve_seconds,
        "variables": stats.variables,
        "constraints": stats.constraints,
        "scorecard": result.scorecard,
        "trace": [(elapsed + offset, cost) for elapsed, cost in stats.trace],
    }


def run_moves_bound(accounts: pd.DataFrame, spec: str, threads: int) -> dict[str, Any]:
    from smartplan.baselines.moves_bound import fewest_moves_bound

    bound = fewest_moves_bound(accounts, spec, threads=threads)
    return {
        "status": bound.status,
        "moves_bound": bound.moves,
        "accounts_with_home": bound.accounts_with_home,
        "seconds": bound.seconds,
    }


def _warm_up(accounts: pd.DataFrame, spec: str) -> None:
    """Load (or compile) every kernel on a tiny slice, so the timed run excludes it."""
    from smartplan import solve

    solve(accounts.head(60), spec, moves=2_000, chains=1, relax=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solver", choices=SOLVERS, required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--moves", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    accounts = (
        pd.read_parquet(args.table) if args.table.endswith(".parquet") else pd.read_csv(args.table)
    )
    if args.solver == "smartplan":
        _warm_up(accounts, args.spec)
    record: dict[str, Any] = {
        "solver": args.solver,
        "table": os.path.basename(args.table),
        "time_limit": args.time_limit,
        "moves": args.moves,
        "threads": args.threads,
        "seed": args.seed,
        "load_average": os.getloadavg()[0],
    }
    if args.solver == "smartplan":
        outcome = run_smartplan(
            accounts, args.spec, args.time_limit, args.moves, args.threads, args.seed
        )
    elif args.solver == "moves-bound":
        outcome = run_moves_bound(accounts, args.spec, args.threads)
    else:
        time_limit = args.time_limit if args.time_limit is not None else 60.0
        outcome = run_exact(args.solver, accounts, args.spec, time_limit, args.threads, args.seed)
    scorecard = outcome.pop("scorecard", None)
    record.update(outcome)
    if scorecard is not None:
        record["criteria"] = criteria_figures(scorecard)
        record["accounts_moved"] = int(scorecard.summary["accounts_moved"])
        record["limits_hold"] = bool(scorecard.summary["limits_hold"])
    record["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
