"""Figures of the plan report, drawn with matplotlib and returned as inline SVG text.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas, so the report never
changes the pyplot backend of the calling program. Text is drawn as paths, so the SVG needs
no font, and every element id is prefixed per figure so that several figures can share one
HTML page.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import numpy as np
from matplotlib import colormaps, rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

BEFORE_COLOR = "#b8c2cc"
INSIDE_COLOR = "#2b6cb0"
OUTSIDE_COLOR = "#dd6b20"
BAND_COLOR = "#c6f0d5"
TARGET_COLOR = "#276749"
NO_TERRITORY_COLOR = "#d5d9de"

# Above this many points the map's scatter layers are embedded as PNG inside the SVG.
RASTER_POINTS = 5_000

_STYLE: dict[Any, Any] = {
    "font.size": 9,
    "axes.edgecolor": "#8a949e",
    "axes.labelcolor": "#2d3748",
    "xtick.color": "#4a5568",
    "ytick.color": "#4a5568",
    "svg.fonttype": "path",
    "svg.hashsalt": "smartplan-report",
}


def territory_colors(count: int) -> list[str]:
    """Return one distinct colour per territory: tab10, tab20, then evenly spaced hues."""
    if count <= 10:
        return [to_hex(colormaps["tab10"](index)) for index in range(count)]
    if count <= 20:
        return [to_hex(colormaps["tab20"](index)) for index in range(count)]
    cmap = colormaps["turbo"]
    return [to_hex(cmap(float(position))) for position in np.linspace(0.05, 0.95, count)]


def balance_chart(
    key: str,
    territory_ids: list[str],
    after: np.ndarray,
    target: np.ndarray,
    tolerance: float,
    before: np.ndarray | None,
) -> str:
    """Bars of each territory's sum before and after, against its target and band.

    All arrays are float64[T]. Bars of the plan outside the tolerance band are orange.
    `key` makes the element ids of this figure unique in the page.
    """
    n = len(territory_ids)
    x = np.arange(n)
    lo, hi = target * (1 - tolerance), target * (1 + tolerance)
    outside = (after < lo - 1e-9 * np.abs(lo)) | (after > hi + 1e-9 * np.abs(hi))
    width = 0.38 if before is not None else 0.6
    with rc_context(_STYLE):
        figure = Figure(figsize=(max(11.0, 0.45 * n + 2.0), 3.3))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for position, low, high, middle in zip(x, lo, hi, target, strict=True):
            axes.fill_between(
                [position - 0.47, position + 0.47], low, high, color=BAND_COLOR, lw=0, zorder=1
            )
            axes.plot([position - 0.47, position + 0.47], [middle] * 2, color=TARGET_COLOR, lw=1.4)
        offset = width / 2 if before is not None else 0.0
        if before is not None:
            axes.bar(x - offset, before, width, color=BEFORE_COLOR, zorder=2)
        colors = np.where(outside, OUTSIDE_COLOR, INSIDE_COLOR)
        axes.bar(x + offset, after, width, color=colors, zorder=2)
        axes.set_xticks(x, territory_ids, rotation=0 if n <= 14 else 60)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: compact_number(value)))
        axes.set_xlim(-0.6, n - 0.4)
        _tidy(axes)
        handles: list[Artist] = []
        if before is not None:
            handles.append(Patch(color=BEFORE_COLOR, label="current owners"))
        handles += [
            Patch(color=INSIDE_COLOR, label="this plan, inside the band"),
            Patch(color=OUTSIDE_COLOR, label="this plan, outside the band"),
            Patch(color=BAND_COLOR, label=f"tolerance band (±{100 * tolerance:g}%)"),
            Line2D([], [], color=TARGET_COLOR, lw=1.4, label="target"),
        ]
        axes.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14 if n <= 14 else -0.3),
            ncol=len(handles),
            frameon=False,
            fontsize=8,
        )
        figure.tight_layout()
        return figure_svg(figure, key)


def account_map(
    key: str,
    longitude: np.ndarray,
    latitude: np.ndarray,
    after: np.ndarray,
    before: np.ndarray | None,
    labels: list[str],
    colors: list[str],
) -> str:
    """Scatter of the accounts on longitude and latitude, coloured by territory.

    `after` and `before` are int[N] territory indices (-1: none, drawn grey). With `before`
    the map has two panels, the current owners and the plan, and moved accounts get a dark
    ring in the plan panel. `labels` and `colors` have one entry per territory.
    """
    panels = [("Current owners", before), ("This plan", after)] if before is not None else []
    if not panels:
        panels = [("This plan", after)]
    n = len(longitude)
    size = 14.0 if n <= 2_000 else max(1.0, 14.0 * math.sqrt(2_000 / n))
    palette = to_rgba_array([*colors, NO_TERRITORY_COLOR])  # float64[T + 1, 4]
    moved = (before >= 0) & (before != after) if before is not None else np.zeros(n, dtype=bool)
    with rc_context(_STYLE):
        aspect = 1 / max(math.cos(math.radians(float(np.median(latitude)))), 0.2)
        x_limits = _padded(longitude)
        y_limits = _padded(latitude)
        legend_rows = math.ceil((len(labels) + 1) / 5)
        # Height of one panel at the width it gets, so the figure has no empty bands.
        panel_width = (11.0 - 0.9) / len(panels) - 0.35
        shape = (y_limits[1] - y_limits[0]) * aspect / (x_limits[1] - x_limits[0])
        legend_height = 0.22 * legend_rows + 0.2
        height = min(max(panel_width * shape, 1.5), 7.0) + 0.75 + legend_height
        figure = Figure(figsize=(11.0, height))
        FigureCanvasAgg(figure)
        axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
        for axes, (title, territory) in zip(axes_list, panels, strict=True):
            dots = palette[np.where(territory >= 0, territory, len(colors))]
            ring = moved if title == "This plan" else np.zeros(n, dtype=bool)
            rasterized = n > RASTER_POINTS
            axes.scatter(
                longitude[~ring],
                latitude[~ring],
                s=size,
                c=dots[~ring],
                linewidths=0,
                rasterized=rasterized,
            )
            if ring.any():
                axes.scatter(
                    longitude[ring],
                    latitude[ring],
                    s=size * 1.6,
                    c=dots[ring],
                    edgecolors="#1a202c",
                    linewidths=0.8 if n <= 2_000 else 0.3,
                    rasterized=rasterized,
                )
            axes.set_title(title, fontsize=10, color="#1a202c", loc="left")
            axes.set_xlim(*x_limits)
            axes.set_ylim(*y_limits)
            axes.set_aspect(aspect, adjustable="box")
            axes.set_xlabel("longitude")
            _tidy(axes)
        axes_list[0].set_ylabel("latitude")
        handles: list[Artist] = [
            Line2D([], [], marker="o", ls="", color=color, label=label, markersize=6)
            for label, color in zip(labels, colors, strict=True)
        ]
        if moved.any():
            handles.append(
                Line2D(
                    [], [], marker="o", ls="", markerfacecolor="white",
                    markeredgecolor="#1a202c", label="moved account", markersize=6,
                )
            )  # fmt: skip
        figure.legend(
            handles=handles,
            loc="lower center",
            ncol=min(len(handles), 5),
            frameon=False,
            fontsize=8,
        )
        figure.tight_layout(rect=(0, legend_height / height, 1, 1))
        return figure_svg(figure, key)


def compact_number(value: float) -> str:
    """Write 1234567 as 1.23M, 4500 as 4.5k and 12 as 12."""
    magnitude = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def figure_svg(figure: Figure, key: str) -> str:
    """Render the figure as an inline <svg> element without prolog, metadata or namespaces.

    Element ids get the prefix `key`, so figures with different keys can share a page.
    """
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'\s(width|height)="[\d.]+pt"', "", text, count=2)
    prefix = f"{key}-"
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", text)
    return text.replace("<svg", '<svg role="img"', 1)


def _padded(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    pad = max(0.03 * (high - low), 0.5)
    return low - pad, high + pad


def _tidy(axes: Axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e2e8f0", lw=0.6, zorder=0)
    axes.set_axisbelow(True)
