"""Plain-text rendering of a scorecard for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from smartplan.metrics import Scorecard


def render_scorecard(card: Scorecard, title: str, max_territories: int = 30) -> str:
    summary = card.summary
    lines = [f"== {title} ==", ""]
    headline = f"cost {summary['cost']:.6g}   accounts {summary['accounts']}"
    if summary["accounts_with_home"]:
        headline += (
            f"   moved {summary['accounts_moved']} of {summary['accounts_with_home']} with a "
            f"home ({100 * summary['moved_share']:.1f}%)"
        )
    lines.append(headline)
    if summary["accounts_with_home"]:
        for metric, share in summary["metric_moved_share"].items():
            lines.append(f"  {metric} moved: {100 * share:.1f}%")
    if summary["accounts_unassigned"]:
        lines.append(f"  unassigned accounts: {summary['accounts_unassigned']}")
    for name, ratio in summary["overlay_ratio"].items():
        lines.append(f"  overlay ratio of {name}: {ratio:.2f} distinct values per territory")
    lines.append(
        f"  accounts per territory: {summary['accounts_per_territory_min']} to "
        f"{summary['accounts_per_territory_max']}; limits hold: "
        f"{'yes' if summary['limits_hold'] else 'NO'}"
    )
    lines.append("")
    lines.append(_criteria_table(card.criteria))
    if len(card.territories):
        lines.append("")
        lines.append(_territory_table(card.territories, max_territories))
    broken = card.limits[~card.limits["holds"]] if len(card.limits) else card.limits
    if len(broken):
        lines.append("")
        lines.append("limits broken:")
        lines.append(broken.to_string(index=False))
    return "\n".join(lines)


def _criteria_table(criteria: pd.DataFrame) -> str:
    rows = []
    for _, row in criteria.iterrows():
        entry = {
            "prio": row["priority"],
            "criterion": _shorten(str(row["criterion"]), 44),
            "cost": f"{row['cost']:.4g}",
        }
        if row["kind"] in ("balance", "weight"):
            entry["max dev"] = f"{100 * row['max_deviation']:.1f}%"
            entry["band"] = f"±{100 * row['tolerance']:.0f}% " + (
                "holds" if row["band_holds"] else "BROKEN"
            )
            entry["cv"] = f"{row['cv']:.3f}"
            entry["min/max"] = f"{row['min_max_ratio']:.3f}"
        elif row["kind"] == "keep":
            entry["max dev"] = f"moved {int(row['accounts_moved'])}/{int(row['accounts_counted'])}"
        elif row["kind"] == "group":
            entry["max dev"] = (
                f"{int(row['split_values'])} split, overlay {row['overlay_ratio']:.2f}"
            )
        rows.append(entry)
    table = pd.DataFrame(rows).fillna("")
    return table.to_string(index=False)


def _territory_table(territories: pd.DataFrame, max_territories: int) -> str:
    """Render one row per territory with each criterion's sum and deviation from target."""
    frame = territories.copy()
    frame["label"] = [f"P{p}" for p in frame["priority"]]
    wide_sum = frame.pivot_table(index="territory", columns="label", values="sum", sort=False)
    wide_dev = frame.pivot_table(index="territory", columns="label", values="deviation", sort=False)
    out = pd.DataFrame(index=wide_sum.index)
    for label in wide_sum.columns:
        out[f"{label} sum"] = [_number(v) for v in wide_sum[label]]
        out[f"{label} dev"] = [f"{100 * v:+.1f}%" for v in wide_dev[label]]
    worst = wide_dev.abs().max(axis=1)
    note = ""
    if len(out) > max_territories:
        keep = worst.sort_values(ascending=False).index[:max_territories]
        out = out.loc[[t for t in out.index if t in set(keep)]]
        note = f"\n({max_territories} of {len(worst)} territories shown: the largest deviations)"
    legend = "  ".join(
        f"P{p} = {_shorten(c, 40)}"
        for p, c in frame[["priority", "criterion"]].drop_duplicates().itertuples(index=False)
    )
    return legend + "\n" + out.to_string() + note


def _number(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
