"""Time `explain_all` and the report on the Fortune plan and on larger synthetic tables.

Run: python benchmarks/bench_explain.py [--repeats 7] [--sizes 10000 200000]

Each figure is the median of the repeats, measured after one warm-up call that loads or
compiles the numba kernels. The Fortune plan comes from `solve` with a fixed seed and move
budget. A synthetic table is explained at its current owners (no search), because the cost
of an explanation does not depend on how good the plan is.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan import load_spec, solve, spec_from_dict
from smartplan.encode import encode
from smartplan.engine.build import build_model
from smartplan.engine.kernels import recompute_state
from smartplan.explain import best_alternatives, explain_all, unit_assignment
from smartplan.plan_file import PlanAssignment

ROOT = Path(__file__).resolve().parent.parent
FORTUNE = ROOT / "examples" / "data" / "fortune1000" / "accounts.csv"
FORTUNE_SPEC = ROOT / "examples" / "specs" / "fortune_rebalance.toml"


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def synthetic_plan(n_accounts: int, n_territories: int, seed: int) -> PlanAssignment:
    """Accounts with a heavy-tailed revenue, a tier and a random current owner."""
    rng = np.random.default_rng(seed)
    ids = [f"T{t:02d}" for t in range(1, n_territories + 1)]
    accounts = pd.DataFrame(
        {
            "account_id": [f"S{i:07d}" for i in range(n_accounts)],
            "revenue": np.round(rng.lognormal(3.0, 1.2, n_accounts), 1),
            "tier": rng.choice(["A", "B", "C"], n_accounts, p=[0.1, 0.3, 0.6]),
            "owner": rng.choice(ids, n_accounts),
        }
    )
    spec = spec_from_dict(
        {
            "plan": {"territories": n_territories},
            "accounts": {"owner": "owner"},
            "criteria": [
                {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
                {"kind": "balance", "where": 'tier == "A"', "tolerance": 0.1},
                {"kind": "balance", "tolerance": 0.05},
                {"kind": "keep", "owner": "owner"},
            ],
        }
    )
    encoding = encode(accounts, spec)
    return PlanAssignment(encoding, encoding.home.copy())


def kernel_seconds(plan: PlanAssignment, repeats: int) -> float:
    """Time the compiled search over every unit and territory alone, without the sentences."""
    model = build_model(plan.encoding).model
    state = recompute_state(model, unit_assignment(plan.encoding, plan.account_territory))
    return median_seconds(lambda: best_alternatives(model, state, model.movable), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 200_000])
    parser.add_argument("--territories", type=int, default=10)
    args = parser.parse_args()

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print(
        f"commit {commit}; {platform.processor() or platform.machine()}; median of {args.repeats}"
    )

    fortune = solve(pd.read_csv(FORTUNE), load_spec(FORTUNE_SPEC), seed=7, moves=400_000)
    shape = f"{fortune.encoding.n_accounts} accounts x {fortune.encoding.n_territories} territories"
    explained = median_seconds(lambda: explain_all(fortune), args.repeats)
    kernel = kernel_seconds(fortune, args.repeats)
    print(f"fortune ({shape}): explain_all {explained:.3f} s, kernel {kernel:.4f} s")

    from smartplan.report import render_report

    seconds = median_seconds(lambda: render_report(fortune), max(3, args.repeats // 2))
    print(f"fortune: render_report {seconds:.2f} s")

    for size in args.sizes:
        plan = synthetic_plan(size, args.territories, seed=size)
        explained = median_seconds(lambda plan=plan: explain_all(plan), max(3, args.repeats // 2))
        kernel = kernel_seconds(plan, args.repeats)
        print(
            f"synthetic ({size} accounts x {args.territories} territories): "
            f"explain_all {explained:.2f} s, kernel {kernel:.3f} s"
        )


if __name__ == "__main__":
    main()
