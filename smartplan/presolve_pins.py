"""Presolve checks of what pins and hard keeps leave to the search.

Pinned and hard-kept accounts sit in their territories before the search starts. These
checks find the minimum limits and tolerance bands that the remaining free accounts can no
longer satisfy, and a territory whose minimum is above its maximum. Limit problems raise
`InfeasibleError`; band problems are returned as findings, which presolve raises unless
the caller relaxes the bands.
"""

from __future__ import annotations

import math

import numpy as np

from smartplan.account_names import list_accounts
from smartplan.encode import Encoding, LimitRow
from smartplan.engine.build import Built
from smartplan.errors import InfeasibleError

# Bisection steps for the smallest tolerance that pinned sums allow: 2**-20 of 100%.
_BISECTION_STEPS = 20


def check_limit_room(encoding: Encoding, built: Built) -> None:
    """Raise for a minimum above a maximum, or minima that pins leave too few accounts for."""
    for lim, limit in enumerate(encoding.limits):
        _check_min_above_max(encoding, limit)
        member = encoding.limit_member[:, lim].astype(np.int64)
        pinned = _pinned_counts(encoding, built, member)
        free = int(member.sum() - pinned.sum())
        # Maxima need no check here: pins over a maximum are reported by presolve, and
        # below that the free accounts fit wherever the plain count check passes.
        _check_minima_reachable(encoding, limit, pinned, free)


def _check_min_above_max(encoding: Encoding, limit: LimitRow) -> None:
    above = np.flatnonzero(limit.minimum > limit.maximum)
    if len(above) == 0:
        return
    t = int(above[0])
    raise InfeasibleError(
        f"limit '{limit.label}': territory {encoding.territory_ids[t]} needs at least "
        f"{limit.minimum[t]} accounts but may hold at most {limit.maximum[t]}; lower its "
        "minimum or raise its maximum"
    )


def _pinned_counts(encoding: Encoding, built: Built, member: np.ndarray) -> np.ndarray:
    """int64[T]: accounts counted by the limit that pins or hard keeps place in each territory."""
    territory = built.unit_pin[encoding.unit]
    pinned = territory >= 0
    return np.bincount(
        territory[pinned], weights=member[pinned], minlength=encoding.n_territories
    ).astype(np.int64)


def _check_minima_reachable(
    encoding: Encoding, limit: LimitRow, pinned: np.ndarray, free: int
) -> None:
    minimum = limit.minimum.astype(np.int64)
    short = np.maximum(minimum - pinned, 0)
    if int(short.sum()) <= free or pinned.sum() == 0:
        # Without pins the plain count check of presolve reports it.
        return
    lacking = np.flatnonzero(short > 0)
    fix = _uniform_minimum(pinned[minimum > 0], free)
    raise InfeasibleError(
        f"limit '{limit.label}': the minima need {int(short.sum())} more accounts in "
        f"{_territory_list(encoding, lacking, short, 'short')}, but pins and hard keeps leave "
        f"only {free} accounts free to place; lower the minimum to at most {fix} or unpin "
        "some accounts"
    )


def _uniform_minimum(pinned: np.ndarray, free: int) -> int:
    """Largest minimum m, the same for each of these territories, that `free` can top up."""
    low, high = 0, int(pinned.max()) + free
    while low < high:
        middle = (low + high + 1) // 2
        if int(np.maximum(middle - pinned, 0).sum()) <= free:
            low = middle
        else:
            high = middle - 1
    return low


def _territory_list(
    encoding: Encoding, territories: np.ndarray, counts: np.ndarray, what: str
) -> str:
    shown = [f"{encoding.territory_ids[t]} ({counts[t]} {what})" for t in territories[:5]]
    more = f" and {len(territories) - 5} more" if len(territories) > 5 else ""
    noun = "territory" if len(territories) == 1 else "territories"
    return f"{noun} {', '.join(shown)}{more}"


def pinned_band_findings(encoding: Encoding, built: Built) -> list[str]:
    """Return the bands whose lower edges the accounts left free after pins cannot reach.

    Take a balance criterion with total V, pinned sums P_t and lower edges L_t. The free
    accounts carry V - sum P_t, and the bands can hold only if that covers
    sum_t max(0, L_t - P_t).
    """
    model = built.model
    pinned = model.unit_pin >= 0
    if not pinned.any():
        return []
    findings = []
    for c in range(model.bal_values.shape[1]):
        tolerance = float(encoding.bal_tolerance[c])
        values = model.bal_values[:, c]
        total = float(values.sum())
        if tolerance <= 0 or total <= 0:
            continue
        sums = np.bincount(
            model.unit_pin[pinned], weights=values[pinned], minlength=encoding.n_territories
        )
        free = total - float(sums.sum())
        short = np.maximum(model.bal_lo[c] - sums, 0.0)
        if short.sum() <= free + 1e-9 * total:
            continue
        targets = encoding.bal_share[c] * total
        needed = _tolerance_for_lower_edges(targets, sums, free, total)
        label = encoding.terms[int(encoding.bal_term[c])].label
        heaviest = int(np.argmax(sums))
        rows = np.flatnonzero(built.unit_pin[encoding.unit] == heaviest)
        examples = list_accounts(
            encoding.frame, encoding.account_ids, rows, encoding.spec.id_column
        )
        findings.append(
            f"criterion '{label}': pinned and hard-kept accounts hold "
            f"{100 * sums.sum() / total:.1f}% of the total (territory "
            f"{encoding.territory_ids[heaviest]} alone {100 * sums[heaviest] / total:.1f}%, "
            f"such as {examples}), which leaves {100 * free / total:.1f}% to spread, but the "
            f"territories below their bands need {100 * short.sum() / total:.1f}% to reach "
            f"the lower edges of their {100 * tolerance:g}% bands; raise the tolerance to "
            f"at least {needed}% or unpin some accounts"
        )
    return findings


def _tolerance_for_lower_edges(
    targets: np.ndarray, sums: np.ndarray, free: float, total: float
) -> int:
    """Smallest whole-percent tolerance whose lower edges `free` can fill (at most 100)."""

    def fits(tolerance: float) -> bool:
        short = np.maximum(targets * (1 - tolerance) - sums, 0.0).sum()
        return bool(short <= free + 1e-9 * total)

    low, high = 0.0, 1.0
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if fits(middle):
            high = middle
        else:
            low = middle
    # The bisection ends just above the edge; step back to the whole percent that still fits.
    percent = max(0, math.floor(100 * high))
    while percent < 100 and not fits(percent / 100):
        percent += 1
    return percent
