"""Moves evaluated per CPU second by one annealing chain, hot and cold.

Builds the model of one instance, takes the greedy start, and times `anneal_chain` on one
thread with `time.process_time`, so other processes on the machine do not count:

- hot: a full schedule from 1e5 down to 1e-4 (most moves accepted early);
- cold: 1e-4 down to 1e-5 from a plan annealed first (most moves rejected).

Prints the best of `--repeats` runs of each, in millions of moves per CPU second, with
every run's rate, and appends that record with the commit and the machine to
`results/throughput.jsonl`.

Usage: python benchmarks/throughput.py [--size m5k] [--seed 1] [--moves 5000000]
       [--repeats 3] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))

from benchmarks.generate import instance_paths, write_instance  # noqa: E402
from benchmarks.run import commit, machine  # noqa: E402
from smartplan.encode import encode  # noqa: E402
from smartplan.engine.anneal import N_COUNTERS, anneal_chain  # noqa: E402
from smartplan.engine.build import build_model  # noqa: E402
from smartplan.engine.greedy import greedy_start  # noqa: E402
from smartplan.engine.kernels import recompute_state  # noqa: E402
from smartplan.engine.rng import chain_streams  # noqa: E402
from smartplan.spec import load_spec  # noqa: E402

SWAP_SHARE = 0.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="m5k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--moves", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--instances", type=Path, default=BENCHMARKS / "instances")
    parser.add_argument("--results", type=Path, default=BENCHMARKS / "results")
    args = parser.parse_args(argv)

    table, spec_path = instance_paths(args.instances, args.size, args.seed)
    if not table.exists():
        write_instance(args.size, args.seed, args.instances)
    encoding = encode(pd.read_parquet(table), load_spec(spec_path))
    built = build_model(encoding)
    model = built.model
    start = greedy_start(model, built.preferred, encoding.capacity, args.seed)
    rng = chain_streams(args.seed, 1)[0]
    counters = np.zeros(N_COUNTERS, dtype=np.int64)

    # Compile (or load) the kernel, then anneal a plan to start the cold runs from.
    anneal_chain(model, recompute_state(model, start), rng, 1_000, 1.0, 0.1, SWAP_SHARE, counters)
    annealed = recompute_state(model, start)
    anneal_chain(model, annealed, rng, 4 * args.moves, 1e5, 1e-4, SWAP_SHARE, counters)

    rates: dict[str, list[float]] = {"hot": [], "cold": []}
    for _ in range(args.repeats):
        for phase, first, last, assign in (
            ("hot", 1e5, 1e-4, start),
            ("cold", 1e-4, 1e-5, annealed.assign),
        ):
            state = recompute_state(model, assign)
            started = time.process_time()
            anneal_chain(model, state, rng, args.moves, first, last, SWAP_SHARE, counters)
            rates[phase].append(args.moves / (time.process_time() - started) / 1e6)
    result = {
        "size": args.size,
        "moves": args.moves,
        "load_average": os.getloadavg()[0],
        **{f"{phase}_best": max(values) for phase, values in rates.items()},
        **{f"{phase}_all": [round(v, 2) for v in values] for phase, values in rates.items()},
    }
    result |= {"commit": commit(), "machine": machine()}
    print(json.dumps(result))
    args.results.mkdir(parents=True, exist_ok=True)
    with (args.results / "throughput.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
