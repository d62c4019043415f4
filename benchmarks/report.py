"""Turn the benchmark records into the tables of RESULTS.md and a cost-against-time plot.

Reads every `results/<size>.jsonl`. The tables replace the text between the markers
`<!-- tables begin -->` and `<!-- tables end -->` of the page (the rest is written by
hand); a page without markers is written from scratch with the tables only.

Definitions: the best known cost of an instance is the lowest exact cost any run reached
(every cost is recomputed by the scorecard); it is "proven" when a solver that proved
optimality reached it. gap = (cost - best) / best. The largest relative deviation of a
criterion is max over territories of |S - T| / T.

Usage: python benchmarks/report.py [--results DIR] [--out RESULTS.md] [--plot FILE.png]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
BEGIN = "<!-- tables begin -->"
END = "<!-- tables end -->"
SIZE_ORDER = ["s200", "s500", "m5k", "l50k", "xl1m"]
# results/throughput.jsonl contains the records of benchmarks/throughput.py, not of a size.
THROUGHPUT = "throughput"
EXACT = ("highs", "cp-sat")
COLORS = {"smartplan": "C0", "highs": "C1", "cp-sat": "C2"}

Record = dict[str, Any]


def load(results: Path) -> dict[str, list[Record]]:
    """Load the records by file name: one file per size, and one of throughput runs."""
    by_size: dict[str, list[Record]] = {}
    for path in sorted(results.glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if records:
            by_size[path.stem] = records
    return by_size


def cpu(record: Record) -> str:
    """Return the processor a record was measured on."""
    return str(record.get("machine", {}).get("cpu", "?"))


def latest(records: list[Record]) -> list[Record]:
    """Keep the last record of each (instance, solver, seed, budget, processor) run.

    The budget of a `run.py --time-ratio` run is its ratio: its time limit follows from
    the other records, so it may differ from one rerun to the next. Runs on other
    processors are kept apart, since their times do not compare.
    """
    kept: dict[tuple[Any, ...], Record] = {}
    for record in records:
        budget = (
            ("ratio", record["time_ratio"])
            if record.get("time_ratio")
            else (record.get("time_limit"), record.get("moves"))
        )
        key = (
            record.get("instance_seed"),
            record.get("solver"),
            record.get("seed"),
            budget,
            cpu(record),
        )
        kept[key] = record
    return list(kept.values())


def best_known(records: list[Record]) -> tuple[float, bool]:
    costs = [r["cost"] for r in records if r.get("cost") is not None]
    best = min(costs) if costs else float("nan")
    proven = any(
        r.get("status") == "optimal" and r.get("cost") is not None and _close(r["cost"], best)
        for r in records
    )
    return best, proven


def gap(cost: float | None, best: float) -> float | None:
    if cost is None:
        return None
    if best == 0:
        return 0.0 if cost == 0 else float("inf")
    return (cost - best) / best


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.{digits}f}%"


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _sec(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def small_table(size: str, records: list[Record]) -> list[str]:
    by_instance: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        by_instance[record["instance_seed"]].append(record)
    lines = [
        f"#### {size}: {records[0]['accounts']} accounts, {records[0]['territories']} "
        f"territories, {records[0]['criteria_count']} criteria",
        "",
        "| instance | best cost | proven | HiGHS status, s | CP-SAT status, s | SmartPlan cost "
        "| SmartPlan gap | SmartPlan s | SmartPlan s / fastest proof | moved (SmartPlan / best) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    gaps, ratios = [], []
    for seed in sorted(by_instance):
        runs = by_instance[seed]
        best, proven = best_known(runs)
        smart = [r for r in runs if r["solver"] == "smartplan" and not r.get("time_ratio")]
        processor = cpu(smart[-1]) if smart else None
        # The exact runs on SmartPlan's processor where there are some; only those count
        # for the time ratio. Costs and proofs of optimality hold on any processor.
        exact = {r["solver"]: r for r in runs if r["solver"] in EXACT}
        exact |= {r["solver"]: r for r in runs if r["solver"] in EXACT and cpu(r) == processor}
        smart_cost = statistics.median(r["cost"] for r in smart) if smart else None
        smart_seconds = statistics.median(r["seconds"] for r in smart) if smart else None
        proofs = [
            r["seconds"]
            for r in exact.values()
            if r.get("status") == "optimal" and cpu(r) == processor
        ]
        ratio = smart_seconds / min(proofs) if proofs and smart_seconds else None
        smart_gap = gap(smart_cost, best)
        if smart_gap is not None:
            gaps.append(smart_gap)
        if ratio is not None:
            ratios.append(ratio)
        best_moved = min(
            (
                r["accounts_moved"]
                for r in runs
                if r.get("cost") is not None and _close(r["cost"], best)
            ),
            default=None,
        )
        smart_moved = statistics.median(r["accounts_moved"] for r in smart) if smart else None
        lines.append(
            f"| {seed} | {_num(best, 6)} | {'yes' if proven else 'no'} | "
            + " | ".join(
                f"{exact[s]['status']}, {_sec(exact[s]['seconds'])}" if s in exact else "-"
                for s in EXACT
            )
            + f" | {_num(smart_cost, 6)} | {_pct(smart_gap)} | {_sec(smart_seconds)} | "
            f"{_num(ratio, 3)} | {_num(smart_moved, 4)} / {_num(best_moved, 4)} |"
        )
    if gaps:
        lines += [
            "",
            f"Median SmartPlan gap over {len(gaps)} instances: {_pct(statistics.median(gaps))}; "
            f"largest time ratio to the fastest proof: {_num(max(ratios), 3) if ratios else '-'}.",
        ]
    return lines + ratio_table(records)


def ratio_table(records: list[Record]) -> list[str]:
    """SmartPlan runs stopped by a share of the fastest proof's time (`run.py --time-ratio`),
    one table per ratio."""
    lines: list[str] = []
    ratios = sorted({r["time_ratio"] for r in records if r.get("time_ratio")})
    for ratio in ratios:
        timed = [r for r in records if r["solver"] == "smartplan" and r.get("time_ratio") == ratio]
        lines += _ratio_rows(records, timed, ratio)
    return lines


def _ratio_rows(records: list[Record], timed: list[Record], ratio: float) -> list[str]:
    lines = [
        "",
        f"SmartPlan stopped by 1/{ratio:g} of the fastest proof's time (median of "
        f"{len({r['seed'] for r in timed})} seeds per instance, "
        f"{_commits(timed).replace('SmartPlan at commit', 'commit')}):",
        "",
        "| instance | fastest proof s | search limit s | SmartPlan s | s / proof | gap "
        "| both targets met |",
        "|---|---|---|---|---|---|---|",
    ]
    for seed in sorted({r["instance_seed"] for r in timed}):
        runs = [r for r in records if r["instance_seed"] == seed]
        best, proven = best_known(runs)
        mine = [r for r in timed if r["instance_seed"] == seed]
        seconds = statistics.median(r["seconds"] for r in mine)
        # The fastest proof on the processor of these runs (the one their limit came from).
        proofs = [
            r["seconds"]
            for r in runs
            if r["solver"] in EXACT and r.get("status") == "optimal" and cpu(r) == cpu(mine[0])
        ]
        proof = min(proofs) if proofs else None
        smart_gap = gap(statistics.median(r["cost"] for r in mine), best)
        met = (
            proof is not None
            and proven
            and smart_gap is not None
            and smart_gap <= 0.005
            and seconds <= proof / mine[0]["time_ratio"]
        )
        lines.append(
            f"| {seed} | {_sec(proof)} | {mine[0]['time_limit']:.3f} | {seconds:.3f} | "
            f"{_num(seconds / proof if proof else None, 3)} | {_pct(smart_gap)} | "
            f"{'yes' if met else 'no'} |"
        )
    return lines


def criteria_columns(records: list[Record]) -> list[str]:
    for record in records:
        if record.get("criteria"):
            return [
                f"P{c['priority']} {c['criterion']}"
                for c in record["criteria"]
                if c["kind"] in ("balance", "weight")
            ]
    return []


def comparison_table(size: str, records: list[Record]) -> list[str]:
    first = records[0]
    best, proven = best_known(records)
    columns = criteria_columns(records)
    lines = [
        f"#### {size}: {first['accounts']} accounts, {first['territories']} territories, "
        f"{first['criteria_count']} criteria",
        "",
        f"Best known cost {_num(best, 6)} ({'proven optimal' if proven else 'not proven'}).",
        "",
        "| solver | budget | status | cost | gap | bound | wall s | peak MiB | moved | "
        + " | ".join(f"max dev {c}" for c in columns)
        + " | all bands hold |",
        "|---|---|---|---|---|---|---|---|---|" + "---|" * len(columns) + "---|",
    ]
    for record in records:
        if record["solver"] == "moves-bound" or (record.get("cost") is None and "error" in record):
            continue
        budget = _budget(record)
        deviations = [
            _pct(c.get("max_deviation"), 1)
            for c in record.get("criteria", [])
            if c["kind"] in ("balance", "weight")
        ]
        bands = [c.get("band_holds") for c in record.get("criteria", []) if c["kind"] == "balance"]
        lines.append(
            f"| {record['solver']} | {budget} | {record.get('status', '-')} | "
            f"{_num(record.get('cost'), 6)} | {_pct(gap(record.get('cost'), best))} | "
            f"{_num(record.get('bound'), 6)} | {_sec(record.get('seconds'))} | "
            f"{record.get('peak_rss_mib', 0):.0f} | {record.get('accounts_moved', '-')} | "
            + " | ".join(deviations or ["-"] * len(columns))
            + f" | {'yes' if bands and all(bands) else 'no'} |"
        )
    bound = next((r for r in records if r["solver"] == "moves-bound"), None)
    smart = [r for r in records if r["solver"] == "smartplan" and r.get("cost") is not None]
    if bound is not None and bound.get("status") == "optimal":
        lines += [
            "",
            f"LP bound on accounts moved with every band held (HiGHS, "
            f"{_sec(bound['seconds'])} s): {bound['moves_bound']:.1f} of "
            f"{bound['accounts_with_home']} accounts with a home.",
        ]
        for record in smart:
            ratio = record["accounts_moved"] / bound["moves_bound"] - 1.0
            lines.append(
                f"SmartPlan ({_budget(record)}) moved {record['accounts_moved']}: "
                f"{_pct(ratio, 1)} above the bound."
            )
    for record in smart:
        lines.append(
            f"SmartPlan ({_budget(record)}): {record['moves_evaluated']:,} moves in "
            f"{_sec(record['anneal_seconds'])} s of annealing on {record['chains']} chains: "
            f"{record['moves_per_second_per_chain'] / 1e6:.2f} M/s per chain (wall), "
            f"{record['moves_per_cpu_second'] / 1e6:.2f} M/s per CPU second; load average "
            f"{record['load_average']:.1f} at the start."
        )
    return lines


def scale_table(size: str, records: list[Record]) -> list[str]:
    lines = [
        f"#### {size}: whole CLI run",
        "",
        "| accounts | territories | criteria | wall s | peak GiB | cost | moved | "
        "top criterion max dev | all bands hold | load average |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record in records:
        criteria = record.get("criteria", [])
        top = criteria[0] if criteria else {}
        bands = [c.get("band_holds") for c in criteria if c["kind"] == "balance"]
        lines.append(
            f"| {record['accounts']:,} | {record['territories']} | {record['criteria_count']} | "
            f"{_sec(record['seconds'])} | {record['peak_rss_mib'] / 1024:.2f} | "
            f"{_num(record.get('cost'), 6)} | {record.get('accounts_moved', '-')} | "
            f"{_pct(top.get('max_deviation'))} | {'yes' if bands and all(bands) else 'no'} | "
            f"{record['load_average']:.1f} |"
        )
    lines += ["", "Command: `" + records[-1]["command"] + "`"]
    for criterion in records[-1].get("criteria", []):
        deviation = _pct(criterion.get("max_deviation"))
        lines.append(
            f"- P{criterion['priority']} {criterion['criterion']}: cost "
            f"{_num(criterion['cost'], 4)}, largest deviation {deviation}"
        )
    return lines


def _budget(record: Record) -> str:
    if record["solver"] == "smartplan" and record.get("time_ratio"):
        return f"1/{record['time_ratio']:g} of the proof"
    if record["solver"] == "smartplan":
        if record.get("time_limit"):
            return f"{record['time_limit']:g} s"
        return f"{record['moves']:,} moves" if record.get("moves") else "default moves"
    return f"{record.get('time_limit', 0):g} s, {record.get('threads')} threads"


def plot(by_size: dict[str, list[Record]], path: Path) -> list[str]:
    """Plot cost against time on instance 1 of each size that has traces; return the sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes: list[str] = [s for s in ("s200", "s500", "m5k") if s in by_size]
    if not sizes:
        return []
    figure, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.5), squeeze=False)
    for axis, size in zip(axes[0], sizes, strict=True):
        records = [
            r for r in latest(by_size[size]) if r["instance_seed"] == 1 and not r.get("time_ratio")
        ]
        for record in records:
            # The trace is in time order already; a stable sort keeps equal times in order.
            trace = sorted(record.get("trace") or [], key=lambda point: point[0])
            if not trace:
                continue
            times = [t for t, _ in trace]
            costs = [c for _, c in trace]
            axis.step(
                times,
                costs,
                where="post",
                color=COLORS.get(record["solver"]),
                label=f"{record['solver']} ({_budget(record)})",
            )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("seconds since the call started")
        axis.set_ylabel("weighted cost of the best plan so far")
        axis.set_title(f"{size}, instance 1")
        axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return sizes


def _commits(records: list[Record]) -> str:
    """Name the commit of each solver's runs, for example "SmartPlan at 02f7f16"."""
    names = {"smartplan": "SmartPlan", "smartplan-cli": "SmartPlan CLI", "highs": "HiGHS"}
    names |= {"cp-sat": "CP-SAT", "moves-bound": "LP bound"}
    by_commit: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        name = str(names.get(record["solver"], record["solver"]))
        key = (record.get("commit", "?"), cpu(record))
        if name not in by_commit[key]:
            by_commit[key].append(name)
    parts = [
        f"{', '.join(solvers)} at commit {commit} ({processor})"
        for (commit, processor), solvers in by_commit.items()
    ]
    return "; ".join(parts)


def tables(by_size: dict[str, list[Record]]) -> list[str]:
    lines: list[str] = []
    for size in sorted(by_size, key=lambda s: SIZE_ORDER.index(s) if s in SIZE_ORDER else 99):
        records = latest(by_size[size])
        # SmartPlan's runs on the processor of its latest run only: times on two machines
        # do not compare, and the exact solvers' times are matched to that processor.
        mine = [r for r in records if str(r["solver"]).startswith("smartplan")]
        if mine:
            processor = cpu(mine[-1])
            records = [
                r
                for r in records
                if not str(r["solver"]).startswith("smartplan") or cpu(r) == processor
            ]
        first = records[0]
        lines += [
            f"_{size}: {_commits(records)}; {first.get('machine', {}).get('cores')} "
            f"cores, {first.get('machine', {}).get('memory_gib')} GiB; load average at the starts "
            f"{min(r['load_average'] for r in records):.1f} to "
            f"{max(r['load_average'] for r in records):.1f}._",
            "",
        ]
        if first["solver"] == "smartplan-cli":
            lines += scale_table(size, records)
        elif size in ("s200", "s500"):
            lines += small_table(size, records)
        else:
            lines += comparison_table(size, records)
        lines.append("")
    return lines


def throughput_table(records: list[Record]) -> list[str]:
    """Return one table row per `throughput.py` run: medians and bests of its repeats."""
    if not records:
        return []
    lines = [
        "#### Annealing throughput (`throughput.py`), millions of moves per CPU second",
        "",
        "| commit | processor | size | moves per run | hot median | hot best | cold median "
        "| cold best | load average |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r.get('commit', '?')} | {cpu(r)} | {r['size']} | {r['moves']:,} | "
            f"{statistics.median(r['hot_all']):.2f} | {r['hot_best']:.2f} | "
            f"{statistics.median(r['cold_all']):.2f} | {r['cold_best']:.2f} | "
            f"{r['load_average']:.1f} |"
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=BENCHMARKS / "results")
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "RESULTS.md")
    parser.add_argument("--plot", type=Path, default=BENCHMARKS / "cost_vs_time.png")
    args = parser.parse_args(argv)
    by_size = load(args.results)
    throughput = by_size.pop(THROUGHPUT, [])
    body = tables(by_size) + throughput_table(throughput)
    plotted = plot(by_size, args.plot)
    if plotted:
        body += [f"![cost against time, {', '.join(plotted)}]({args.plot.name})", ""]
    generated = "\n".join([BEGIN, "", *body, END])
    if args.out.exists() and BEGIN in (text := args.out.read_text()) and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        args.out.write_text(head + generated + tail, encoding="utf-8")
    else:
        args.out.write_text("# Benchmark results\n\n" + generated + "\n", encoding="utf-8")
    print(f"wrote {args.out}" + (f" and {args.plot}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
