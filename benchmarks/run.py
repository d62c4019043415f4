"""Run SmartPlan and the exact baselines on the benchmark instances of one size.

Each run is a fresh subprocess (`benchmarks/run_one.py`), so peak memory is measured per
run. Records are appended to `benchmarks/results/<size>.jsonl`, one JSON object per line,
with the git commit, the machine and the load average at the start of the run.

The protocol of each size (seeds, solvers, budgets) is in `PROTOCOL`; options override it.

`--time-ratio N` runs SmartPlan alone on each instance that an exact solver has proven on
this processor, and stops it by 1/N of the fastest proof's wall time. Its move budget
(TIME_RATIO_MOVES) is too large to reach, so the clock ends the run. The non-search time of
the call (encode, model build, scorecard) is estimated from the latest commit's
default-budget SmartPlan records of the instance and taken off first. The record keeps the
real wall time, so the report checks the ratio on what the run took.

Usage: python benchmarks/run.py --size s200 [--seeds 1 2] [--solvers smartplan highs]
       [--exact-time-limit S] [--smartplan-time-limit S] [--smartplan-moves N]
       [--time-ratio N] [--threads K] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import SIZES, instance_paths, write_instance  # noqa: E402
from benchmarks.report import EXACT, cpu  # noqa: E402


@dataclass(frozen=True)
class Protocol:
    """Seeds, solvers and budgets of one size."""

    seeds: tuple[int, ...]
    solvers: tuple[str, ...]
    exact_time_limit: float
    smartplan_time_limit: float | None = None
    smartplan_moves: int | None = None
    smartplan_seeds: tuple[int, ...] = field(default=(1,))


PROTOCOL: dict[str, Protocol] = {
    # Small sizes: the solvers run until they prove the optimum (or 5 minutes).
    # SmartPlan runs with 5 seeds per instance; the tables report the median.
    "s200": Protocol(
        (1, 2, 3, 4, 5), ("smartplan", "highs", "cp-sat"), 300.0, smartplan_seeds=(1, 2, 3, 4, 5)
    ),
    "s500": Protocol(
        (1, 2, 3, 4, 5), ("smartplan", "highs", "cp-sat"), 300.0, smartplan_seeds=(1, 2, 3, 4, 5)
    ),
    # 5,000 accounts: SmartPlan for 5 s (3 seeds) against 60 s of each solver, plus the LP
    # bound.
    "m5k": Protocol(
        (1,),
        ("smartplan", "highs", "cp-sat", "moves-bound"),
        60.0,
        smartplan_time_limit=5.0,
        smartplan_seeds=(1, 2, 3),
    ),
    "l50k": Protocol((1,), ("smartplan", "highs"), 300.0, smartplan_time_limit=30.0),
}


def machine() -> dict[str, object]:
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kib = int(handle.readline().split()[1])
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / 2**20, 1),
        "python": platform.python_version(),
    }


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return result.stdout.strip()


# Moves per chain of a --time-ratio run: more than any run makes in its time limit.
TIME_RATIO_MOVES = 10**12

# Share of the remaining budget given to the search: a run may pass its time limit by the
# end of its last chunk.
SEARCH_SHARE = 0.9


def proof_budgets(out: Path, ratio: float, processor: str) -> dict[int, tuple[float, float]]:
    """Per instance with a proof: (fastest proof's wall seconds, SmartPlan search limit).

    A proof is an exact solver's run with status optimal on `processor`, the one this run
    measures on: times on other processors do not compare. The limit is SEARCH_SHARE x
    (proof / ratio - the median non-search seconds of the SmartPlan runs of the instance
    with the default budget on that processor). Those runs are the ones at the commit of
    the latest of them, since the non-search time changes with the code. Instances with no
    time left are left out.
    """
    records: list[dict[str, Any]] = []
    if out.exists():
        records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    budgets: dict[int, tuple[float, float]] = {}
    for seed in sorted({r["instance_seed"] for r in records}):
        runs = [r for r in records if r["instance_seed"] == seed and cpu(r) == processor]
        proofs = [
            r["seconds"] for r in runs if r["solver"] in EXACT and r.get("status") == "optimal"
        ]
        # Only runs with the default budget, so that a rerun gets the same limit.
        defaults = [
            r
            for r in runs
            if r["solver"] == "smartplan"
            and not r.get("time_ratio")
            and r.get("moves") is None
            and r.get("time_limit") is None
            and r.get("search_seconds") is not None
        ]
        if defaults:
            latest = defaults[-1].get("commit")
            defaults = [r for r in defaults if r.get("commit") == latest]
        overheads = [r["seconds"] - r["search_seconds"] for r in defaults]
        if not proofs or not overheads:
            continue
        left = min(proofs) / ratio - statistics.median(overheads)
        if left > 0:
            budgets[seed] = (min(proofs), SEARCH_SHARE * left)
    return budgets


def run_once(
    solver: str,
    table: Path,
    spec: Path,
    time_limit: float | None,
    moves: int | None,
    threads: int,
    seed: int,
) -> dict[str, object]:
    command = [
        sys.executable,
        str(BENCHMARKS / "run_one.py"),
        "--solver",
        solver,
        "--table",
        str(table),
        "--spec",
        str(spec),
        "--threads",
        str(threads),
        "--seed",
        str(seed),
    ]
    if time_limit is not None:
        command += ["--time-limit", str(time_limit)]
    if moves is not None:
        command += ["--moves", str(moves)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        return {"solver": solver, "error": completed.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(PROTOCOL), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--solvers", nargs="+", default=None)
    parser.add_argument("--exact-time-limit", type=float, default=None)
    parser.add_argument("--smartplan-time-limit", type=float, default=None)
    parser.add_argument("--smartplan-moves", type=int, default=None)
    parser.add_argument("--smartplan-seeds", type=int, nargs="+", default=None)
    parser.add_argument("--time-ratio", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--instances", type=Path, default=BENCHMARKS / "instances")
    parser.add_argument("--results", type=Path, default=BENCHMARKS / "results")
    args = parser.parse_args(argv)

    protocol = PROTOCOL[args.size]
    seeds = args.seeds or list(protocol.seeds)
    solvers = args.solvers or list(protocol.solvers)
    exact_limit = args.exact_time_limit or protocol.exact_time_limit
    smart_limit = args.smartplan_time_limit or protocol.smartplan_time_limit
    smart_moves = args.smartplan_moves or protocol.smartplan_moves
    smart_seeds = args.smartplan_seeds or list(protocol.smartplan_seeds)
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"{args.size}.jsonl"
    context = {"size": args.size, "commit": commit(), "machine": machine()}
    size = SIZES[args.size]
    budgets: dict[int, tuple[float, float]] = {}
    if args.time_ratio is not None:
        solvers = ["smartplan"]
        budgets = proof_budgets(out, args.time_ratio, str(context["machine"]["cpu"]))
        skipped = [seed for seed in seeds if seed not in budgets]
        if skipped:
            print(f"no proof or no time left on instances {skipped}: skipped", flush=True)
        seeds = [seed for seed in seeds if seed in budgets]

    for seed in seeds:
        table, spec = instance_paths(args.instances, args.size, seed)
        if not table.exists() or not spec.exists():
            write_instance(args.size, seed, args.instances)
        for solver in solvers:
            runs = smart_seeds if solver == "smartplan" else [seed]
            for run_seed in runs:
                extra: dict[str, object] = {}
                if seed in budgets:
                    proof, limit = budgets[seed]
                    record = run_once(
                        solver, table, spec, limit, TIME_RATIO_MOVES, args.threads, run_seed
                    )
                    extra = {"time_ratio": args.time_ratio, "proof_seconds": proof}
                elif solver == "smartplan":
                    record = run_once(
                        solver, table, spec, smart_limit, smart_moves, args.threads, run_seed
                    )
                else:
                    record = run_once(
                        solver, table, spec, exact_limit, None, args.threads, run_seed
                    )
                record.update(context)
                record.update(extra)
                record.update(
                    {
                        "instance_seed": seed,
                        "accounts": size.accounts,
                        "territories": size.territories,
                        "criteria_count": size.criteria,
                    }
                )
                with out.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
                print(_summary(record), flush=True)
    return 0


def _summary(record: dict[str, object]) -> str:
    parts = [f"{record.get('size')} seed {record.get('instance_seed')} {record.get('solver')}:"]
    for key in ("status", "cost", "bound", "seconds", "accounts_moved", "moves_bound"):
        if record.get(key) is not None:
            value = record[key]
            parts.append(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value}")
    if "error" in record:
        parts.append(f"error={record['error']}")
    return " ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
