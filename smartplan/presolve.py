"""Checks decided before the search, each explaining what to relax.

Hard problems (limits that cannot hold, pins over a cap) always raise `InfeasibleError`.
Tolerance bands that no plan can meet raise too, unless the caller asks for the closest
plan (`relax=True`), in which case they are returned as findings.
"""

from __future__ import annotations

import math

import numpy as np

from smartplan.account_names import list_accounts
from smartplan.encode import Encoding
from smartplan.engine.build import Built
from smartplan.errors import InfeasibleError
from smartplan.presolve_pins import check_limit_room, pinned_band_findings


def presolve(encoding: Encoding, built: Built, relax: bool = False) -> list[str]:
    """Raise on a provably infeasible spec; return the band findings when `relax` is set."""
    _check_limits(encoding, built)
    check_limit_room(encoding, built)
    findings = _check_bands(encoding, built) + pinned_band_findings(encoding, built)
    if findings and not relax:
        raise InfeasibleError(
            findings[0]
            + (f" ({len(findings) - 1} more band problems)" if len(findings) > 1 else "")
            + ". Or run with --relax to get the closest plan with the violations listed"
        )
    return findings


def _check_limits(encoding: Encoding, built: Built) -> None:
    model = built.model
    ids = encoding.territory_ids
    n_territories = encoding.n_territories
    unit_pin = built.unit_pin
    for lim, limit in enumerate(encoding.limits):
        member = encoding.limit_member[:, lim]
        counted = int(member.sum())
        capacity = int(np.minimum(limit.maximum, counted).astype(np.int64).sum())
        if capacity < counted:
            raise InfeasibleError(
                f"limit '{limit.label}': {counted} accounts must be placed but the maxima "
                f"allow only {capacity} in {n_territories} territories; raise the maximum to "
                f"at least {math.ceil(counted / n_territories)} or add territories"
            )
        required = int(limit.minimum.astype(np.int64).sum())
        if required > counted:
            raise InfeasibleError(
                f"limit '{limit.label}': the minima need {required} accounts in all but only "
                f"{counted} accounts count toward it; lower the minimum to at most "
                f"{counted // n_territories}"
            )
        pinned_counts = np.zeros(n_territories, dtype=np.int64)
        pinned_rows = np.flatnonzero((unit_pin[encoding.unit] >= 0) & (member > 0))
        np.add.at(pinned_counts, unit_pin[encoding.unit[pinned_rows]], member[pinned_rows])
        over = np.flatnonzero(pinned_counts > limit.maximum)
        if len(over):
            t = over[0]
            rows = pinned_rows[unit_pin[encoding.unit[pinned_rows]] == t]
            sample = ", ".join(str(encoding.account_ids[r]) for r in rows[:5])
            raise InfeasibleError(
                f"limit '{limit.label}': {pinned_counts[t]} pinned or hard-kept accounts "
                f"({sample}{', ...' if len(rows) > 5 else ''}) are in territory {ids[t]}, "
                f"over its maximum of {limit.maximum[t]}; unpin some or raise the maximum"
            )
        unit_counts = np.bincount(encoding.unit, weights=member, minlength=encoding.n_units).astype(
            np.int64
        )
        largest = int(limit.maximum.max())
        too_big = np.flatnonzero(unit_counts > largest)
        if len(too_big):
            u = too_big[0]
            rows = np.flatnonzero(encoding.unit == u)
            sample = ", ".join(str(encoding.account_ids[r]) for r in rows[:5])
            raise InfeasibleError(
                f"limit '{limit.label}': one hard group holds {unit_counts[u]} counted "
                f"accounts ({sample}, ...) but no territory may hold more than {largest}; "
                "raise the maximum or make the group soft"
            )
    del model


def _check_bands(encoding: Encoding, built: Built) -> list[str]:
    """Units or pinned sums that no territory's tolerance band can hold."""
    model = built.model
    findings: list[str] = []
    terms = encoding.terms
    for c in range(model.bal_values.shape[1]):
        term = terms[int(encoding.bal_term[c])]
        tolerance = encoding.bal_tolerance[c]
        if tolerance <= 0:
            continue
        total = float(encoding.bal_values[:, c].sum())
        if total <= 0:
            continue
        hi = model.bal_hi[c]
        largest_band = float(hi.max())
        values = model.bal_values[:, c]
        u = int(np.argmax(values))
        if values[u] > largest_band + 1e-9 * total:
            findings.append(_oversized_unit_message(encoding, term.label, c, u, values[u], total))
            continue
        pinned = model.unit_pin >= 0
        pinned_sums = np.bincount(
            model.unit_pin[pinned], weights=values[pinned], minlength=encoding.n_territories
        )
        over = np.flatnonzero(pinned_sums > hi + 1e-9 * total)
        if len(over):
            t = int(over[0])
            findings.append(
                f"criterion '{term.label}': pinned and hard-kept accounts give territory "
                f"{encoding.territory_ids[t]} {pinned_sums[t]:,.6g}, above its band's upper "
                f"edge {hi[t]:,.6g}; unpin some accounts or raise the tolerance"
            )
    return findings


def _oversized_unit_message(
    encoding: Encoding, label: str, c: int, u: int, value: float, total: float
) -> str:
    """Explain a unit larger than any band, with the tolerance or territory count that fits it."""
    rows = np.flatnonzero(encoding.unit == u)
    who = list_accounts(encoding.frame, encoding.account_ids, rows, encoding.spec.id_column)
    if len(rows) > 1:
        who += " (one hard group)"
    share = encoding.bal_share[c]
    tolerance = float(encoding.bal_tolerance[c])
    best_share = float(share.max())
    value_share = value / total
    needed = value_share / best_share - 1.0
    message = (
        f"criterion '{label}': {who} {'holds' if len(rows) == 1 else 'hold'} "
        f"{_percent(value_share)} of {_criterion_total(encoding, c)}; with "
        f"{encoding.n_territories} territories a {_percent(tolerance)} band allows at most "
        f"{_percent(best_share * (1 + tolerance))}: raise the tolerance to at least "
        f"{math.ceil(100 * needed - 1e-9)}%"
    )
    most = math.floor((1 + tolerance) / value_share)
    if np.allclose(share, share[0]) and most >= 2:
        message += f" or use at most {most} territories"
    return message


def _criterion_total(encoding: Encoding, c: int) -> str:
    """Name what a balance criterion sums: 'revenue', 'the accounts where tier == "A"'."""
    term = encoding.terms[int(encoding.bal_term[c])]
    what = term.metric or "the accounts"
    criteria = encoding.spec.criteria
    if term.priority <= len(criteria):
        where = getattr(criteria[term.priority - 1], "where", None)
        if where is not None:
            what += f" where {where}"
    return what


def _percent(fraction: float) -> str:
    """Format 0.033 as '3.3%', 0.05 as '5%' and 0.00123 as '0.12%'."""
    percent = 100 * fraction
    if percent >= 0.1:
        text = f"{percent:.1f}"
        return (text[:-2] if text.endswith(".0") else text) + "%"
    return f"{percent:.2g}%"
