"""Time the whole command line on the largest instance: read Parquet, plan, write.

Runs `smartplan plan TABLE --spec SPEC --out PLAN.parquet --quiet` as a child process and
takes its wall time and peak resident memory from os.wait4. The kernels are loaded (or
compiled) by a short warm-up run on the first rows first, so the timed run reads them from
the cache as every later run does. Appends one JSON record to `results/<size>.jsonl`.

Usage: python benchmarks/scale.py [--size xl1m] [--seed 1] [--time-limit S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import SIZES, instance_paths, write_instance  # noqa: E402
from benchmarks.run import commit, machine  # noqa: E402


def run_cli(arguments: list[str]) -> tuple[int, float, float, str]:
    """Run the CLI; return (exit status, wall seconds, peak RSS in MiB, stderr)."""
    command = [sys.executable, "-m", "smartplan.cli", *arguments]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        errors.seek(0)
        message = errors.read().decode(errors="replace")
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024.0, message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="xl1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--instances", type=Path, default=BENCHMARKS / "instances")
    parser.add_argument("--results", type=Path, default=BENCHMARKS / "results")
    parser.add_argument("--out", type=Path, default=None, help="folder for the plan files")
    args = parser.parse_args(argv)

    table, spec = instance_paths(args.instances, args.size, args.seed)
    if not table.exists() or not spec.exists():
        write_instance(args.size, args.seed, args.instances)
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="smartplan-scale-"))
    out_dir.mkdir(parents=True, exist_ok=True)

    import pandas as pd

    warm_table = out_dir / "warm_up.parquet"
    pd.read_parquet(table).head(2_000).to_parquet(warm_table, index=False)
    warm = ["plan", str(warm_table), "--spec", str(spec), "--out", str(out_dir / "warm.csv")]
    run_cli([*warm, "--moves", "10000", "--relax", "--quiet"])

    plan_path = out_dir / "plan.parquet"
    arguments = ["plan", str(table), "--spec", str(spec), "--out", str(plan_path), "--quiet"]
    if args.time_limit is not None:
        arguments += ["--time-limit", str(args.time_limit)]
    load_average = os.getloadavg()[0]
    status, seconds, peak_mib, message = run_cli(arguments)
    record: dict[str, object] = {
        "size": args.size,
        "instance_seed": args.seed,
        "solver": "smartplan-cli",
        "command": "smartplan " + " ".join(arguments),
        "exit_status": status,
        "seconds": seconds,
        "peak_rss_mib": peak_mib,
        "load_average": load_average,
        "commit": commit(),
        "machine": machine(),
        "accounts": SIZES[args.size].accounts,
        "territories": SIZES[args.size].territories,
        "criteria_count": SIZES[args.size].criteria,
    }
    criteria: list[dict[str, object]] = []
    if status == 0:
        card = json.loads((out_dir / "plan_scorecard.json").read_text(encoding="utf-8"))
        record["cost"] = card["summary"]["cost"]
        record["accounts_moved"] = card["summary"]["accounts_moved"]
        criteria = [
            {
                "priority": row["priority"],
                "criterion": row["criterion"],
                "kind": row["kind"],
                "cost": row["cost"],
                "max_deviation": row.get("max_deviation"),
                "band_holds": row.get("band_holds"),
            }
            for row in card["criteria"]
        ]
        record["criteria"] = criteria
    else:
        record["error"] = message.strip().splitlines()[-3:]
    args.results.mkdir(parents=True, exist_ok=True)
    with (args.results / f"{args.size}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "criteria"}))
    for row in criteria:
        print(row)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
