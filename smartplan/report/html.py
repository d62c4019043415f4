"""The plan report: one self-contained HTML page with inline SVG charts and no scripts.

The page loads nothing from anywhere: no script, font, style sheet or image file. It shows
the key figures, the criteria and the territory table. Then come each balance criterion's
sums before (current owners) and after (this plan) against its band, and the movement
between territories. Last come a map of the accounts when the table has coordinates, and
the moved accounts with the reason each one is where it is.
"""

from __future__ import annotations

import html
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan.explain import AssignedPlan
from smartplan.io import write_text_atomic
from smartplan.report.charts import (
    BAND_COLOR,
    account_map,
    balance_chart,
    compact_number,
    territory_colors,
)
from smartplan.report.style import CSS
from smartplan.report.tables import (
    BalanceSeries,
    Coordinates,
    ReportData,
    balance_series,
    collect,
    coordinates,
    label_column,
    movement_matrix,
    movement_weights,
    territory_table,
)

# The moved-accounts table stops after this many rows; the plan file has all of them.
MAX_MOVED_ROWS = 5_000


def render_report(
    plan: AssignedPlan,
    title: str = "Territory plan",
    source: str = "",
    label: str | None = None,
    latitude: str | None = None,
    longitude: str | None = None,
    max_moved_rows: int = MAX_MOVED_ROWS,
) -> str:
    """Render the report of `plan` as an HTML document.

    `source` is a line under the title (such as the input file names). `label` names the
    column of account names, `latitude` and `longitude` the coordinate columns; each is
    found by its usual name when not given.
    """
    frame = plan.encoding.frame
    found = coordinates(frame, latitude, longitude)
    label = label_column(frame, label)
    data = collect(plan)
    series = balance_series(data)
    sections = [
        _header(data, title, source),
        _key_figures(data, series),
        _criteria_section(data),
        _territory_section(data, series),
        _balance_section(series, data.territory_ids),
        _movement_section(data),
        _map_section(data, found),
        _moved_section(data, label, max_moved_rows),
        _footer(),
    ]
    body = "\n".join(section for section in sections if section)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def write_report(
    plan: AssignedPlan,
    path: str | Path,
    title: str = "Territory plan",
    source: str = "",
    label: str | None = None,
    latitude: str | None = None,
    longitude: str | None = None,
    max_moved_rows: int = MAX_MOVED_ROWS,
) -> None:
    """Render the report (see `render_report` for the options) and write it atomically."""
    page = render_report(plan, title, source, label, latitude, longitude, max_moved_rows)
    write_text_atomic(path, page)


def _header(data: ReportData, title: str, source: str) -> str:
    encoding = data.encoding
    parts = [
        f"{encoding.n_accounts:,} accounts",
        f"{encoding.n_territories} territories",
        f"{len(encoding.terms)} criteria",
    ]
    if source:
        parts.insert(0, source)
    return f'<header><h1>{_e(title)}</h1><p class="subtitle">{_e(" · ".join(parts))}</p></header>'


def _key_figures(data: ReportData, series: list[BalanceSeries]) -> str:
    after = data.after_card.summary
    cards = []
    if data.before is not None:
        cards.append(
            _card(
                "Accounts moved",
                f"{after['accounts_moved']:,}",
                f"of {after['accounts_with_home']:,} with a home ({after['moved_share']:.1%})",
            )
        )
        for metric, share in after["metric_moved_share"].items():
            cards.append(_card(f"{metric} moved", f"{share:.1%}", "of the total with a home"))

    holds_after = sum(_band_holds(s, s.after) for s in series)
    detail = f"of {len(series)} balance criteria"
    if data.before_card is not None:
        holds_before = sum(_band_holds(s, s.before) for s in series if s.before is not None)
        detail += f"; {holds_before} before"
    cards.append(_card("Within tolerance", f"{holds_after}", detail))

    cost_detail = "weighted sum of criterion costs; lower is better"
    if data.before_card is not None:
        cost_detail = f"current owners {data.before_card.cost:.4g}; lower is better"
    cards.append(_card("Plan cost", f"{data.after_card.cost:.4g}", cost_detail))

    limits = "hold" if after["limits_hold"] else "broken"
    cards.append(
        _card(
            "Accounts per territory",
            f"{after['accounts_per_territory_min']:,} to {after['accounts_per_territory_max']:,}",
            f"limits {limits}",
        )
    )
    return f'<section><div class="cards">{"".join(cards)}</div></section>'


def _criteria_section(data: ReportData) -> str:
    before_rows = (
        data.before_card.criteria.to_dict("records") if data.before_card is not None else None
    )
    rows = []
    for i, row in enumerate(data.after_card.criteria.to_dict("records")):
        cells = [
            f'<td class="num">{row["priority"]}</td>',
            f"<td>{_e(row['criterion'])}</td>",
            f"<td>{_e(_tolerance(row))}</td>",
        ]
        if before_rows is not None:
            cells.append(f'<td class="num">{_criterion_figure(before_rows[i])}</td>')
        cells.append(f'<td class="num">{_criterion_figure(row)}</td>')
        cells.append(f"<td>{_criterion_status(row)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    before_head = '<th class="num">Current owners</th>' if before_rows is not None else ""
    return (
        "<section><h2>Criteria in priority order</h2>"
        '<p class="note">Balance criteria show the largest relative deviation of any '
        "territory from its target; keep criteria the accounts moved away from their home "
        "territory; group criteria the values split over several territories.</p>"
        '<table><thead><tr><th class="num">Priority</th><th>Criterion</th><th>Tolerance</th>'
        f'{before_head}<th class="num">This plan</th><th>Status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _criterion_figure(row: dict) -> str:
    kind = row["kind"]
    if kind in ("balance", "weight"):
        return f"max deviation {row['max_deviation']:.1%}"
    if kind == "keep":
        return f"{int(row['accounts_moved']):,} moved ({row['moved_share']:.1%})"
    if kind == "group":
        return f"{int(row['split_values']):,} split, overlay {row['overlay_ratio']:.2f}"
    return f"cost {row['cost']:.4g}"


def _criterion_status(row: dict) -> str:
    if row["kind"] in ("balance", "weight"):
        if row["band_holds"]:
            return '<span class="badge good">within band</span>'
        return '<span class="badge bad">outside band</span>'
    return ""


def _tolerance(row: dict) -> str:
    if row["kind"] not in ("balance", "weight"):
        return ""
    tolerance = float(row["tolerance"])
    return f"±{100 * tolerance:g}%" if tolerance > 0 else "none"


def _balance_section(series: list[BalanceSeries], territory_ids: list[str]) -> str:
    if not series:
        return ""
    figures = []
    for index, item in enumerate(series):
        svg = balance_chart(
            f"balance{index}", territory_ids, item.after, item.target, item.tolerance, item.before
        )
        worst_after = _max_deviation(item, item.after)
        text = f"Largest deviation from target: {worst_after:.1%} in this plan"
        if item.before is not None:
            text += f", {_max_deviation(item, item.before):.1%} with the current owners"
        low, high = item.target.min(), item.target.max()
        target = (
            f"Target {compact_number(low)} per territory"
            if np.isclose(low, high)
            else f"Targets from {compact_number(low)} to {compact_number(high)}"
        )
        figures.append(
            f"<figure><figcaption><h3>Priority {item.priority} · {_e(item.label)}</h3>"
            f'<span class="note">{_e(target)}, tolerance ±{100 * item.tolerance:g}%. '
            f"{_e(text)}.</span></figcaption>{svg}</figure>"
        )
    return (
        '<section class="page"><h2>Balance by territory</h2>'
        '<p class="note">Each territory\'s sum against its target; the '
        f'<span class="legend-swatch" style="background:{BAND_COLOR}"></span>band is the '
        "tolerance, inside which a deviation costs nothing.</p>"
        f"{''.join(figures)}</section>"
    )


def _territory_section(data: ReportData, series: list[BalanceSeries]) -> str:
    table = territory_table(data)
    colors = territory_colors(len(table))
    show_tier = bool((table["tier"] != "").any())
    show_capacity = not np.allclose(table["capacity"], 1.0)
    head = ["<th>Territory</th>", "<th>Name</th>"]
    if show_tier:
        head.append("<th>Tier</th>")
    if show_capacity:
        head.append('<th class="num">Capacity</th>')
    if data.before is not None:
        head.append('<th class="num">Accounts before</th>')
    head.append('<th class="num">Accounts</th>')
    if data.before is not None:
        head += ['<th class="num">Moved in</th>', '<th class="num">Moved out</th>']
        if (data.before < 0).any():
            head.append('<th class="num">No home before</th>')
    head += [f'<th class="num">P{item.priority} sum (vs target)</th>' for item in series]

    rows = []
    for t, row in enumerate(table.to_dict("records")):
        cells = [
            f'<td><span class="legend-swatch" style="background:{colors[t]}"></span>'
            f"{_e(row['territory'])}</td>",
            f"<td>{_e(row['name'])}</td>",
        ]
        if show_tier:
            cells.append(f"<td>{_e(row['tier'])}</td>")
        if show_capacity:
            cells.append(f'<td class="num">{row["capacity"]:g}</td>')
        if data.before is not None:
            cells.append(f'<td class="num">{row["accounts_before"]:,}</td>')
        cells.append(f'<td class="num">{row["accounts"]:,}</td>')
        if data.before is not None:
            cells.append(f'<td class="num">{row["moved_in"]:,}</td>')
            cells.append(f'<td class="num">{row["moved_out"]:,}</td>')
            if (data.before < 0).any():
                cells.append(f'<td class="num">{row["new_accounts"]:,}</td>')
        for item in series:
            cells.append(f'<td class="num">{_sum_cell(item, t)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    legend = "; ".join(f"P{item.priority} = {item.label}" for item in series)
    return (
        "<section><h2>Territories</h2>"
        f'<p class="note">{_e(legend)}. Deviations outside the tolerance band are marked.</p>'
        f"<table><thead><tr>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _sum_cell(item: BalanceSeries, t: int) -> str:
    target = item.target[t]
    value = item.after[t]
    if target <= 0:
        return f"{compact_number(value)} (target 0)"
    deviation = (value - target) / target
    outside = abs(deviation) > item.tolerance + 1e-9
    mark = ' class="dev-bad"' if outside else ""
    return f"{compact_number(value)} <span{mark}>({deviation:+.1%})</span>"


def _movement_section(data: ReportData) -> str:
    if data.before is None:
        return (
            '<section class="page"><h2>Movement</h2><p class="note">The spec names no owner '
            "column, so no account has a home territory to move from.</p></section>"
        )
    parts = []
    for title, weights in movement_weights(data):
        matrix = movement_matrix(data, weights)
        parts.append(f"<h3>{_e(title.capitalize())}</h3>{_matrix_table(matrix, title)}")
    return (
        '<section class="page"><h2>Movement from home territory to new territory</h2>'
        '<p class="note">Rows are the current owners, columns the territories of this plan; '
        "the diagonal stayed where it was. Darker cells carry more of the total moved.</p>"
        f"{''.join(parts)}</section>"
    )


def _matrix_table(matrix: pd.DataFrame, title: str) -> str:
    """Shade each cell off the diagonal by its share of the largest such cell."""
    values = matrix.to_numpy()
    n_rows, n_columns = values.shape
    off_diagonal = values.copy()
    diagonal = np.arange(min(n_rows, n_columns))
    off_diagonal[diagonal, diagonal] = 0
    largest = off_diagonal.max() if off_diagonal.size else 0.0
    is_count = title == "accounts"

    head = "".join(f"<th>{_e(column)}</th>" for column in matrix.columns)
    rows = []
    for i, name in enumerate(matrix.index):
        cells = []
        for j in range(n_columns):
            value = values[i, j]
            text = _matrix_number(value, is_count)
            if i == j:
                cells.append(f'<td class="stay">{text}</td>')
            elif value == 0:
                cells.append('<td class="zero">·</td>')
            else:
                alpha = 0.12 + 0.78 * value / largest if largest > 0 else 0.12
                ink = "#ffffff" if alpha > 0.55 else "#1a202c"
                style = f"background:rgba(43,108,176,{alpha:.2f});color:{ink}"
                cells.append(f'<td style="{style}">{text}</td>')
        total = _matrix_number(values[i].sum(), is_count)
        rows.append(f'<tr><th>{_e(name)}</th>{"".join(cells)}<td class="total">{total}</td></tr>')

    totals = "".join(f"<td>{_matrix_number(v, is_count)}</td>" for v in values.sum(axis=0))
    grand = _matrix_number(values.sum(), is_count)
    rows.append(f'<tr class="total"><th>total</th>{totals}<td>{grand}</td></tr>')
    return (
        f'<table class="matrix"><thead><tr><th class="corner">from \\ to</th>{head}'
        f"<th>total</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _matrix_number(value: float, is_count: bool) -> str:
    return f"{round(value):,}" if is_count else compact_number(value)


def _map_section(data: ReportData, found: Coordinates | None) -> str:
    if found is None:
        return ""
    colors = territory_colors(len(data.territory_ids))
    labels = [
        f"{tid} {name}".strip()
        for tid, name in zip(data.territory_ids, data.territory_names, strict=True)
    ]
    before = data.before[found.rows] if data.before is not None else None
    svg = account_map(
        "map", found.longitude, found.latitude, data.after[found.rows], before, labels, colors
    )
    note = "Each dot is an account at its latitude and longitude, coloured by territory."
    if found.skipped:
        note += f" {found.skipped:,} accounts without valid coordinates are not shown."
    return (
        '<section class="page"><h2>Map of the accounts</h2>'
        f'<p class="note">{_e(note)}</p><figure>{svg}</figure></section>'
    )


def _moved_section(data: ReportData, label: str | None, max_rows: int) -> str:
    if data.before is None:
        return ""
    n = data.encoding.n_accounts
    table = data.explanations.iloc[:n]
    moved = table[table["moved"].to_numpy(dtype=bool)].copy()
    if label is not None:
        names = data.encoding.frame[label].astype("string").fillna("")
        moved.insert(1, "name", names.to_numpy(dtype=object)[moved.index.to_numpy()])
    moved = moved.sort_values(["home_territory", "territory", "account_id"], kind="stable")

    listed = moved.head(max_rows)
    head = ["Account", "Name", "From", "To", "Reason", "Why not elsewhere"]
    if label is None:
        head.remove("Name")
    rows = []
    for row in listed.to_dict("records"):
        cells = [f"<td>{_e(row['account_id'])}</td>"]
        if label is not None:
            cells.append(f"<td>{_e(row['name'])}</td>")
        cells += [
            f"<td>{_e(row['home_territory'])}</td>",
            f"<td>{_e(row['territory'])}</td>",
            f"<td>{_e(row['reason'])}</td>",
            f'<td class="text">{_e(row["alternative_text"] or row["explanation"])}</td>',
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")

    note = (
        f"{len(moved):,} accounts changed territory. The last column names the best other "
        "territory and the criterion that would suffer most if the account went there."
    )
    if len(moved) > max_rows:
        note += f" The first {max_rows:,} are listed; the plan file has all of them."
    head_html = "".join(f"<th>{_e(name)}</th>" for name in head)
    return (
        '<section class="page"><h2>Moved accounts</h2>'
        f'<p class="note">{_e(note)}</p>'
        f"<table><thead><tr>{head_html}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</section>"
    )


def _footer() -> str:
    try:
        release = version("smartplan")
    except PackageNotFoundError:
        release = "unknown version"
    return (
        f"<footer>SmartPlan {_e(release)}. A deviation is (sum - target) / target. The plan "
        "cost is the sum of the criterion costs, each weighted by its priority.</footer>"
    )


def _card(label: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="detail">{_e(detail)}</div></div>'
    )


def _band_holds(item: BalanceSeries, sums: np.ndarray | None) -> bool:
    if sums is None:
        return False
    lo = item.target * (1 - item.tolerance)
    hi = item.target * (1 + item.tolerance)
    slack = 1e-9 * max(float(item.target.sum()), 1.0)
    return bool(((sums >= lo - slack) & (sums <= hi + slack)).all())


def _max_deviation(item: BalanceSeries, sums: np.ndarray) -> float:
    has_target = item.target > 0
    if not has_target.any():
        return 0.0
    relative = (sums[has_target] - item.target[has_target]) / item.target[has_target]
    return float(np.abs(relative).max())


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
