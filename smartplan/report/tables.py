"""The figures behind the plan report: before and after sums, movement and coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smartplan.columns import require_column
from smartplan.encode import Encoding
from smartplan.errors import InputError
from smartplan.explain import AssignedPlan, explain_all
from smartplan.metrics import Scorecard, score

LATITUDE_NAMES = ("latitude", "lat")
LONGITUDE_NAMES = ("longitude", "lon", "lng", "long")
LABEL_NAMES = ("name", "account_name", "company", "company_name")


@dataclass(frozen=True)
class ReportData:
    """One plan with its current owners, scorecards and explanations."""

    encoding: Encoding
    after: np.ndarray  # int32[N], territory of each account in the plan
    before: np.ndarray | None  # int32[N], home territory or -1; None without an owner column
    after_card: Scorecard
    before_card: Scorecard | None
    explanations: pd.DataFrame  # explain_all, accounts in encoding order first

    @property
    def territory_ids(self) -> list[str]:
        return self.encoding.territory_ids

    @property
    def territory_names(self) -> list[str]:
        return [territory.name for territory in self.encoding.spec.territories]


def collect(plan: AssignedPlan) -> ReportData:
    encoding = plan.encoding
    after = np.asarray(plan.account_territory, dtype=np.int32)
    has_owner = encoding.spec.owner_column is not None
    before = encoding.home if has_owner else None
    return ReportData(
        encoding=encoding,
        after=after,
        before=before,
        after_card=score(encoding, after),
        before_card=score(encoding, before) if before is not None else None,
        explanations=explain_all(plan),
    )


@dataclass(frozen=True)
class BalanceSeries:
    """Per-territory sums of one balance or weight criterion."""

    priority: int
    label: str
    metric: str | None
    tolerance: float
    target: np.ndarray  # float64[T]
    after: np.ndarray  # float64[T]
    before: np.ndarray | None  # float64[T], accounts without a home excluded


def balance_series(data: ReportData) -> list[BalanceSeries]:
    encoding = data.encoding
    n_territories = encoding.n_territories
    series = []
    for c, term_index in enumerate(encoding.bal_term):
        term = encoding.terms[int(term_index)]
        values = encoding.bal_values[:, c]
        before = None
        if data.before is not None:
            placed = data.before >= 0
            before = np.bincount(
                data.before[placed], weights=values[placed], minlength=n_territories
            )
        series.append(
            BalanceSeries(
                priority=term.priority,
                label=term.label,
                metric=term.metric,
                tolerance=float(encoding.bal_tolerance[c]),
                target=encoding.bal_share[c] * values.sum(),
                after=np.bincount(data.after, weights=values, minlength=n_territories),
                before=before,
            )
        )
    return series


def movement_weights(data: ReportData) -> list[tuple[str, np.ndarray]]:
    """Return (title, float64[N]) pairs: accounts, then each balanced metric.

    A metric's values are those of its criterion without a filter when there is one.
    Otherwise they are those of its first criterion, and the title names that criterion.
    """
    encoding = data.encoding
    weights = [("accounts", np.ones(encoding.n_accounts))]
    chosen: dict[str, tuple[int, bool]] = {}
    for c, term_index in enumerate(encoding.bal_term):
        term = encoding.terms[int(term_index)]
        if term.metric is None:
            continue
        criterion = encoding.spec.criteria[term.priority - 1]
        unfiltered = getattr(criterion, "where", None) is None
        if term.metric not in chosen or (unfiltered and not chosen[term.metric][1]):
            chosen[term.metric] = (c, unfiltered)
    for metric, (c, unfiltered) in chosen.items():
        term = encoding.terms[int(encoding.bal_term[c])]
        title = metric if unfiltered else f"{metric} (as counted by {term.label})"
        weights.append((title, encoding.bal_values[:, c]))
    return weights


def movement_matrix(data: ReportData, weights: np.ndarray) -> pd.DataFrame:
    """Sum of `weights` from each home territory (rows) to each plan territory (columns).

    A last row, "no home", sums the accounts without a home territory when there are any.
    """
    assert data.before is not None
    ids = data.territory_ids
    n_territories = len(ids)
    rows = np.where(data.before >= 0, data.before, n_territories)
    flat = np.bincount(
        rows * n_territories + data.after,
        weights=weights,
        minlength=(n_territories + 1) * n_territories,
    )
    matrix = pd.DataFrame(
        flat.reshape(n_territories + 1, n_territories), index=[*ids, "no home"], columns=ids
    )
    if not (data.before < 0).any():
        matrix = matrix.iloc[:n_territories]
    return matrix


def territory_table(data: ReportData) -> pd.DataFrame:
    """Accounts per territory before and after, with the accounts moved in and out."""
    n_territories = len(data.territory_ids)
    after = np.bincount(data.after, minlength=n_territories)
    table = pd.DataFrame(
        {
            "territory": data.territory_ids,
            "name": data.territory_names,
            "tier": [territory.tier or "" for territory in data.encoding.spec.territories],
            "capacity": data.encoding.capacity,
            "accounts": after,
        }
    )
    if data.before is not None:
        placed = data.before >= 0
        moved = placed & (data.before != data.after)
        table.insert(
            4, "accounts_before", np.bincount(data.before[placed], minlength=n_territories)
        )
        table["moved_in"] = np.bincount(data.after[moved], minlength=n_territories)
        table["moved_out"] = np.bincount(data.before[moved], minlength=n_territories)
        table["new_accounts"] = np.bincount(data.after[~placed], minlength=n_territories)
    return table


@dataclass(frozen=True)
class Coordinates:
    longitude: np.ndarray  # float64[M]
    latitude: np.ndarray  # float64[M]
    rows: np.ndarray  # int64[M], accounts with valid coordinates
    skipped: int  # accounts without valid coordinates


def coordinates(
    frame: pd.DataFrame, latitude: str | None, longitude: str | None
) -> Coordinates | None:
    """Valid coordinates of the accounts, or None when the table has no such columns.

    Columns named latitude/lat and longitude/lon/lng/long are found when not given. Rows
    whose values are missing, non-numeric or out of range are skipped and counted.
    """
    latitude = latitude or _find_column(frame, LATITUDE_NAMES)
    longitude = longitude or _find_column(frame, LONGITUDE_NAMES)
    if latitude is None or longitude is None:
        return None
    lat = pd.to_numeric(require_column(frame, latitude, "latitude"), errors="coerce")
    lon = pd.to_numeric(require_column(frame, longitude, "longitude"), errors="coerce")
    lat_values = lat.to_numpy(dtype=np.float64, na_value=np.nan)
    lon_values = lon.to_numpy(dtype=np.float64, na_value=np.nan)
    valid = (np.abs(lat_values) <= 90) & (np.abs(lon_values) <= 180)
    if not valid.any():
        raise InputError(
            f"columns {latitude!r} and {longitude!r} hold no valid coordinates (latitude "
            "-90 to 90, longitude -180 to 180); fix them or name others with --latitude and "
            "--longitude"
        )
    rows = np.flatnonzero(valid)
    return Coordinates(lon_values[rows], lat_values[rows], rows, int((~valid).sum()))


def label_column(frame: pd.DataFrame, column: str | None) -> str | None:
    """Return the column of account names: `column`, else one with a common name, or None."""
    if column is not None:
        require_column(frame, column, "account name")
        return column
    return _find_column(frame, LABEL_NAMES)


def _find_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    by_lower = {str(column).strip().lower(): str(column) for column in frame.columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    return None
