"""The scorecard: measured balance of any assignment of the encoded accounts.

The cost here is recomputed from the per-account arrays, independently of the search's
incremental bookkeeping, with the same formula: for a balance term
D = sum_t max(0, |S_t - T_t| - tolerance * T_t) / V; for a keep term the moved share; for
a soft group the extra territories per value over the largest possible number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smartplan.encode import Encoding


@dataclass
class Scorecard:
    """Balance of one assignment: per territory, per criterion and overall."""

    territories: pd.DataFrame  # one row per (criterion, territory)
    criteria: pd.DataFrame  # one row per criterion
    limits: pd.DataFrame  # one row per (limit, territory)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return float(self.summary["cost"])

    def term_costs(self) -> np.ndarray:
        return self.criteria["cost"].to_numpy(dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "criteria": self.criteria.to_dict(orient="records"),
            "territories": self.territories.to_dict(orient="records"),
            "limits": self.limits.to_dict(orient="records"),
        }

    def to_text(self, title: str = "scorecard", max_territories: int = 30) -> str:
        from smartplan.scorecard_text import render_scorecard

        return render_scorecard(self, title, max_territories)

    def write(self, path: str | Path) -> None:
        """Write as JSON (.json) or as the per-territory table (.csv)."""
        from smartplan.io import write_text_atomic

        path = Path(path)
        if path.suffix.lower() == ".csv":
            write_text_atomic(path, self.territories.to_csv(index=False))
        else:
            text = json.dumps(
                _without_nan(self.to_dict()), indent=2, default=_json_default, allow_nan=False
            )
            write_text_atomic(path, text + "\n")


def _without_nan(value: Any) -> Any:
    """Replace NaN and infinite floats by None, which JSON writes as null."""
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nan(item) for item in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_TERRITORY_COLUMNS = [
    "priority",
    "criterion",
    "territory",
    "sum",
    "target",
    "deviation",
    "outside_band",
]


def score(encoding: Encoding, assign: np.ndarray) -> Scorecard:
    """Score `assign` (int32[N] territory per account, -1 for none) under the encoding."""
    assign = np.asarray(assign, dtype=np.int64)
    n_territories = encoding.n_territories
    placed = assign >= 0
    ids = encoding.territory_ids
    terms = encoding.terms
    costs = np.zeros(len(terms))
    # Columns of the territories table, one block of n_territories rows per criterion.
    territory_columns: dict[str, list[Any]] = {name: [] for name in _TERRITORY_COLUMNS}
    criterion_rows: list[dict[str, Any]] = [{} for _ in terms]

    totals = encoding.bal_values.sum(axis=0)
    for c in range(encoding.bal_values.shape[1]):
        term = int(encoding.bal_term[c])
        sums = np.bincount(
            assign[placed], weights=encoding.bal_values[placed, c], minlength=n_territories
        )
        targets = encoding.bal_share[c] * totals[c]
        tolerance = encoding.bal_tolerance[c]
        lo, hi = targets * (1 - tolerance), targets * (1 + tolerance)
        outside = np.maximum(np.maximum(sums - hi, lo - sums), 0.0)
        costs[term] = outside.sum() / totals[c] if totals[c] > 0 else 0.0
        has_target = targets > 0
        relative = np.divide(sums - targets, targets, out=np.zeros(n_territories), where=has_target)
        ratio = sums[has_target] / targets[has_target]
        block = {
            "priority": [terms[term].priority] * n_territories,
            "criterion": [terms[term].label] * n_territories,
            "territory": list(ids),
            "sum": sums.tolist(),
            "target": targets.tolist(),
            "deviation": relative.tolist(),
            "outside_band": outside.tolist(),
        }
        for name, values in block.items():
            territory_columns[name].extend(values)
        criterion_rows[term] = {
            "total": float(totals[c]),
            "max_deviation": float(np.abs(relative[has_target]).max()) if has_target.any() else 0.0,
            "cv": float(ratio.std() / ratio.mean()) if len(ratio) and ratio.mean() > 0 else 0.0,
            "min_max_ratio": float(ratio.min() / ratio.max())
            if len(ratio) and ratio.max() > 0
            else 0.0,
            "band_holds": bool((outside <= 1e-9 * max(totals[c], 1.0)).all()),
        }

    for k in range(encoding.keep_home.shape[1]):
        term = int(encoding.keep_term[k])
        home = encoding.keep_home[:, k]
        value = encoding.keep_value[:, k]
        counted = home >= 0
        moved = counted & (assign != home)
        total = value[counted].sum()
        costs[term] = value[moved].sum() / total if total > 0 else 0.0
        criterion_rows[term] = {
            "total": float(total),
            "accounts_counted": int(counted.sum()),
            "accounts_moved": int(moved.sum()),
            "moved_share": float(costs[term]),
        }

    for s in range(encoding.group_code.shape[1]):
        term = int(encoding.group_term[s])
        codes = encoding.group_code[:, s]
        splits, overlay, split_values = _group_figures(codes, assign, n_territories)
        norm = encoding.group_norm[s]
        costs[term] = splits / norm if norm > 0 else 0.0
        criterion_rows[term] = {
            "splits": int(splits),
            "split_values": int(split_values),
            "overlay_ratio": float(overlay),
        }

    weights = np.array([term.weight for term in terms])
    criteria = pd.DataFrame(
        [
            {
                "priority": term.priority,
                "criterion": term.label,
                "kind": term.kind,
                "tolerance": term.tolerance,
                "weight": term.weight,
                "cost": float(costs[i]),
                **criterion_rows[i],
            }
            for i, term in enumerate(terms)
        ],
        columns=None if terms else ["priority", "criterion", "kind", "tolerance", "weight", "cost"],
    )
    limits = _limit_rows(encoding, assign)
    summary = _summary(encoding, assign, float(weights @ costs), limits)
    # Without balance terms the table is empty, with columns of object dtype.
    territories = (
        pd.DataFrame(territory_columns, columns=_TERRITORY_COLUMNS)
        if territory_columns["priority"]
        else pd.DataFrame([], columns=_TERRITORY_COLUMNS)
    )
    return Scorecard(
        territories=territories,
        criteria=criteria,
        limits=limits,
        summary=summary,
    )


def _group_figures(
    codes: np.ndarray, assign: np.ndarray, n_territories: int
) -> tuple[int, float, int]:
    """Return (extra territories over all values, overlay ratio, values split)."""
    present = (codes >= 0) & (assign >= 0)
    if not present.any():
        return 0, 0.0, 0
    pairs = np.unique(np.stack([codes[present], assign[present]]), axis=1)
    per_value = np.bincount(pairs[0])
    per_value = per_value[per_value > 0]
    per_territory = np.bincount(pairs[1], minlength=n_territories)
    splits = int((per_value - 1).sum())
    return splits, float(per_territory.mean()), int((per_value > 1).sum())


def overlay_ratio(values: np.ndarray, assign: np.ndarray, n_territories: int) -> float:
    """Mean number of distinct `values` per territory (None values ignored)."""
    codes, _ = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return _group_figures(codes.astype(np.int64), np.asarray(assign), n_territories)[1]


def _limit_rows(encoding: Encoding, assign: np.ndarray) -> pd.DataFrame:
    rows = []
    placed = assign >= 0
    for lim, limit in enumerate(encoding.limits):
        counts = np.bincount(
            assign[placed],
            weights=encoding.limit_member[placed, lim],
            minlength=encoding.n_territories,
        ).astype(np.int64)
        for t, territory in enumerate(encoding.territory_ids):
            maximum = int(limit.maximum[t])
            rows.append(
                {
                    "limit": limit.label,
                    "territory": territory,
                    "count": int(counts[t]),
                    "min": int(limit.minimum[t]),
                    "max": maximum if maximum < (1 << 30) else None,
                    "holds": bool(limit.minimum[t] <= counts[t] <= maximum),
                }
            )
    return pd.DataFrame(rows, columns=["limit", "territory", "count", "min", "max", "holds"])


def _summary(
    encoding: Encoding, assign: np.ndarray, cost: float, limits: pd.DataFrame
) -> dict[str, Any]:
    has_home = encoding.home >= 0
    moved = has_home & (assign != encoding.home)
    metric_moved: dict[str, float] = {}
    for term, c in zip(
        (encoding.terms[int(t)] for t in encoding.bal_term),
        range(encoding.bal_values.shape[1]),
        strict=True,
    ):
        if term.metric is None or term.metric in metric_moved:
            continue
        values = encoding.bal_values[:, c]
        total = values[has_home].sum()
        metric_moved[term.metric] = float(values[moved].sum() / total) if total > 0 else 0.0
    overlays = {
        name: overlay_ratio(
            encoding.frame[name].to_numpy(dtype=object), assign, encoding.n_territories
        )
        for name in dict.fromkeys(
            [*encoding.hard_group_fields, *encoding.group_fields, *encoding.spec.overlay]
        )
    }
    per_territory = np.bincount(assign[assign >= 0], minlength=encoding.n_territories)
    return {
        "cost": cost,
        "accounts": int(encoding.n_accounts),
        "accounts_unassigned": int((assign < 0).sum()) + len(encoding.unassigned_ids),
        "accounts_with_home": int(has_home.sum()),
        "accounts_moved": int(moved.sum()),
        "moved_share": float(moved.sum() / has_home.sum()) if has_home.any() else 0.0,
        "metric_moved_share": metric_moved,
        "accounts_per_territory_min": int(per_territory.min()),
        "accounts_per_territory_max": int(per_territory.max()),
        "limits_hold": bool(limits["holds"].all()) if len(limits) else True,
        "overlay_ratio": overlays,
    }
