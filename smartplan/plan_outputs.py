"""Write a plan and its scorecard as one atomic pair, marked interrupted or relaxed."""

from __future__ import annotations

from pathlib import Path

from smartplan.io import table_writer, write_files_atomic
from smartplan.plan import Plan


def mark_run(plan: Plan) -> list[str]:
    """Record in the scorecard summary how the run ended; return the lines to report.

    The summary gets ``interrupted`` (true when Ctrl-C stopped the search) and
    ``relaxed``: the presolve findings that `--relax` let through, followed by one line per
    criterion whose band the plan breaks. Without findings, ``relaxed`` is empty.
    """
    summary = plan.scorecard.summary
    summary["interrupted"] = plan.stats.stopped_by == "interrupted"
    lines = list(plan.findings)
    if plan.findings:
        criteria = plan.scorecard.criteria
        if "band_holds" in criteria.columns:
            broken = criteria[criteria["band_holds"].eq(False)]
            for row in broken.to_dict(orient="records"):
                lines.append(
                    f"criterion '{row['criterion']}': the plan breaks its "
                    f"{100 * float(row['tolerance']):g}% band; the largest deviation from a "
                    f"target is {100 * float(row['max_deviation']):.1f}%"
                )
    summary["relaxed"] = lines
    return lines


def write_plan_files(plan: Plan, out: Path, scorecard_path: Path) -> None:
    """Write the plan table and its scorecard; both files are replaced, or neither is."""
    write_files_atomic(
        {
            out: table_writer(plan.assignment, out.suffix),
            scorecard_path: plan.scorecard.write,
        }
    )
