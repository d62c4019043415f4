"""The summary of a sweep: median and spread over seeds of each figure, per grid point."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smartplan.simulate.run import MAX_DEVIATION, OVERLAY_RATIO

GRID_POINT = ["variant", "territories"]
STATISTICS = ("median", "min", "max", "iqr")


def figure_columns(rows: pd.DataFrame) -> list[str]:
    """Return the numeric figures of the rows that the summary aggregates, in display order."""
    columns = [str(c) for c in rows.columns]
    ordered = [
        "cost",
        *[c for c in columns if c.startswith(MAX_DEVIATION)],
        "moved_share",
        *[c for c in columns if c.startswith(OVERLAY_RATIO)],
        "accounts_per_territory_min",
        "accounts_per_territory_max",
        "seconds",
    ]
    return [c for c in ordered if c in columns]


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (variant, territories) with the spread of each figure over seeds.

    Columns: variant, territories, runs, feasible (runs that returned a plan), error (the
    first failed run's message), then `<figure> median`, `min`, `max` and `iqr` (75th minus
    25th percentile) over the feasible runs. Grid points keep the order of the rows.
    """
    figures = figure_columns(rows)
    records = []
    for (variant, territories), group in rows.groupby(GRID_POINT, sort=False):
        feasible = group[group["feasible"].astype(bool)]
        failed = group.loc[~group["feasible"].astype(bool), "error"]
        record: dict[str, object] = {
            "variant": variant,
            "territories": territories,
            "runs": len(group),
            "feasible": len(feasible),
            "error": str(failed.iloc[0]) if len(failed) else "",
        }
        for figure in figures:
            values = feasible[figure].to_numpy(dtype=np.float64)
            values = values[~np.isnan(values)]
            record.update(_spread(figure, values))
        records.append(record)
    columns = [*GRID_POINT, "runs", "feasible", "error"]
    columns += [f"{figure} {statistic}" for figure in figures for statistic in STATISTICS]
    return pd.DataFrame(records, columns=columns)


def _spread(figure: str, values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {f"{figure} {statistic}": float("nan") for statistic in STATISTICS}
    q25, q75 = np.percentile(values, [25, 75])
    return {
        f"{figure} median": float(np.median(values)),
        f"{figure} min": float(values.min()),
        f"{figure} max": float(values.max()),
        f"{figure} iqr": float(q75 - q25),
    }
