"""The sweep chart: key figures against the territory count, one line per variant (PNG)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from smartplan.errors import InputError
from smartplan.simulate.run import MAX_DEVIATION

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANEL_COLUMNS = 3


def check_chart_support() -> None:
    """Raise `InputError` when matplotlib, which draws the chart, is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError(
            "the sweep chart needs matplotlib; install it with pip install 'smartplan[report]'"
        ) from None


def plot_sweep(summary: pd.DataFrame, path: str | Path) -> None:
    """Write the chart of `summary` (see `sweep_figure`) as a PNG file, atomically."""
    from smartplan.io import write_files_atomic

    figure = sweep_figure(summary)
    write_files_atomic({Path(path): chart_writer(figure)})


def chart_writer(figure: Figure) -> Callable[[Path], None]:
    """Return a function that writes `figure` as a PNG file to a path."""
    return lambda target: figure.savefig(target, format="png", dpi=110)


def sweep_figure(summary: pd.DataFrame) -> Figure:
    """Draw the medians over seeds (lines) and their min-max range (bands).

    Each panel plots one figure against the territory count, with one line per variant.
    The panels are the cost, the largest relative deviation of each balance criterion, the
    moved share and the seconds per run. The cost has a symmetric log scale, because costs
    of different priorities differ by the weight ratio.
    """
    check_chart_support()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = _panels(summary)
    rows = math.ceil(len(panels) / PANEL_COLUMNS)
    columns = min(len(panels), PANEL_COLUMNS)
    figure = Figure(figsize=(4.6 * columns, 3.4 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    feasible = summary[summary["feasible"] > 0]
    for index, (figure_name, title, percent) in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for variant, points in feasible.groupby("variant", sort=False):
            scale = 100.0 if percent else 1.0
            x = points["territories"]
            line = axes.plot(
                x, points[f"{figure_name} median"] * scale, marker="o", label=str(variant)
            )
            axes.fill_between(
                x,
                points[f"{figure_name} min"] * scale,
                points[f"{figure_name} max"] * scale,
                color=line[0].get_color(),
                alpha=0.2,
                linewidth=0,
            )
        if figure_name == "cost":
            axes.set_yscale("symlog", linthresh=1e-6)
        axes.set_title(title, fontsize=9)
        axes.set_xlabel("territories")
        axes.set_ylabel("%" if percent else "")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    if summary["variant"].nunique() > 1:
        figure.legend(*figure.axes[0].get_legend_handles_labels(), loc="outside lower center")
    figure.suptitle("Sweep: median over seeds (line) and min to max (band)")
    return figure


def _panels(summary: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """Return (figure, panel title, shown in percent) for each panel with data."""
    panels = [("cost", "cost", False)]
    for column in summary.columns:
        if column.startswith(MAX_DEVIATION) and column.endswith(" median"):
            name = column.removesuffix(" median")
            label = name.removeprefix(MAX_DEVIATION)
            panels.append((name, f"largest deviation: {label}", True))
    panels.append(("moved_share", "moved share", True))
    panels.append(("seconds", "seconds per run", False))
    return [panel for panel in panels if f"{panel[0]} median" in summary.columns]
