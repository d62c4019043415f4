"""Sweep throughput: local worker processes against a Dask LocalCluster on the same grid.

Run: python benchmarks/sweep_throughput.py [--territories 8..15] [--seeds 3]
     [--moves 300000] [--workers 2] [--repeats 3]

Each repeat runs the Fortune 1000 spec over territory counts x seeds once with
`LocalExecutor(workers)` and once with `DaskExecutor(local_workers=workers)` (a LocalCluster
on 127.0.0.1), alternating which goes first. The wall time covers the whole `simulate`
call: starting the workers, sending the table, the warm-up that loads the kernels, every
run and the shutdown. Runs are stopped by the fixed move budget, so both executors must
return the same rows. The script checks that, and that no source file that a run executes
changed while it ran. Figures are medians over the repeats.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import pandas as pd

from smartplan.accounts_file import read_accounts
from smartplan.errors import SmartPlanWarning
from smartplan.simulate import DaskExecutor, Executor, LocalExecutor, simulate
from smartplan.simulate.warmup import warm_up, warmup_cases
from smartplan.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
FORTUNE = ROOT / "examples" / "data" / "fortune1000" / "accounts.csv"
FORTUNE_SPEC = ROOT / "examples" / "specs" / "fortune_rebalance.toml"
RUNTIME_COLUMNS = ["seconds", "worker", "kernels_compiled", "kernels_loaded"]
# Modules of smartplan besides engine/ and simulate/ that a sweep run executes.
RUN_MODULES = ["plan", "encode", "presolve", "metrics", "spec", "units", "columns", "filters"]


def source_digest() -> str:
    """Return a hash of the sources a run executes. An edit during the sweeps voids them."""
    package = ROOT / "smartplan"
    paths = [*package.glob("engine/*.py"), *package.glob("simulate/*.py")]
    paths += [package / f"{name}.py" for name in RUN_MODULES]
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territories", default="8..15")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--moves", type=int, default=300_000, help="moves per chain")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    sources = source_digest()
    spec = load_spec(FORTUNE_SPEC)
    accounts = read_accounts(FORTUNE, spec)
    # Fill the disk cache first, so that no measured sweep compiles kernels.
    warm_up(warmup_cases([spec]))

    executors: dict[str, Executor] = {
        "local processes": LocalExecutor(args.workers),
        "Dask LocalCluster": DaskExecutor(local_workers=args.workers),
    }
    walls: dict[str, list[float]] = {name: [] for name in executors}
    run_seconds: dict[str, list[float]] = {name: [] for name in executors}
    loads: list[float] = []
    reference: pd.DataFrame | None = None
    runs = 0
    for repeat in range(args.repeats):
        order = list(executors) if repeat % 2 == 0 else list(reversed(executors))
        for name in order:
            loads.append(os.getloadavg()[0])
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmartPlanWarning)
                rows = simulate(
                    accounts,
                    spec,
                    territories=args.territories,
                    seeds=args.seeds,
                    moves=args.moves,
                    executor=executors[name],
                )
            wall = time.perf_counter() - started
            walls[name].append(wall)
            run_seconds[name].extend(rows["seconds"])
            runs = len(rows)
            compiled = int(rows["kernels_compiled"].sum())
            print(
                f"repeat {repeat + 1} {name}: {len(rows)} runs in {wall:.1f} s "
                f"({len(rows) / wall:.2f} runs/s), kernels compiled in runs: {compiled}"
            )
            if source_digest() != sources:
                raise SystemExit("smartplan's sources changed during the benchmark; rerun it")
            deterministic = rows.drop(columns=RUNTIME_COLUMNS)
            if reference is None:
                reference = deterministic
            else:
                pd.testing.assert_frame_equal(deterministic, reference)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print()
    print(f"commit {commit}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"grid: territories {args.territories} x {args.seeds} seeds = {runs} runs")
    print(f"moves {args.moves:,} per chain x {spec.search.chains} chains, {args.workers} workers")
    print(f"1-minute load average during the sweeps: median {statistics.median(loads):.1f}")
    print("rows identical across executors and repeats: yes")
    print()
    print("| executor | sweep wall time (s) | runs per second | seconds per run |")
    print("|---|---|---|---|")
    for name in executors:
        wall = statistics.median(walls[name])
        per_run = statistics.median(run_seconds[name])
        print(f"| {name} | {wall:.1f} | {runs / wall:.2f} | {per_run:.2f} |")


if __name__ == "__main__":
    main()
