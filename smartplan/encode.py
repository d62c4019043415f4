"""Encode an accounts table and a spec into flat per-account arrays.

Filters are evaluated once here. Every cost criterion becomes a cost term with its priority
weight; hard keeps and the pin column become pins; hard groups and account families become
units; limits become per-territory bounds. `smartplan.engine.build` aggregates the result
into the unit-level `Model` the search runs on, and `smartplan.metrics` scores any
assignment from the same arrays.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smartplan.columns import (
    account_ids,
    describe_rows,
    metric_values,
    require_column,
    text_values,
)
from smartplan.errors import InputError, SmartPlanWarning
from smartplan.filters import Filter
from smartplan.spec import Balance, Group, Keep, Limit, PlanSpec, Weight
from smartplan.units import merge_units

NO_LIMIT = 1 << 30


@dataclass(frozen=True)
class CostTerm:
    """One term of the plan cost: a soft criterion with its priority weight."""

    priority: int
    kind: str
    label: str
    weight: float
    tolerance: float = 0.0
    metric: str | None = None


@dataclass(frozen=True)
class LimitRow:
    """One hard limit on accounts per territory."""

    label: str
    minimum: np.ndarray  # int32[T]
    maximum: np.ndarray  # int32[T]


@dataclass
class Encoding:
    """Per-account arrays of one plan; N accounts in scope, T territories."""

    spec: PlanSpec
    territory_ids: list[str]
    capacity: np.ndarray  # float64[T]
    frame: pd.DataFrame  # the scoped accounts; index: their 0-based rows in the input table
    account_ids: np.ndarray  # object[N]
    home: np.ndarray  # int32[N], home territory or -1
    pin: np.ndarray  # int32[N], pinned territory or -1
    pin_reason: np.ndarray  # object[N]: "pinned", "kept" or ""
    unit: np.ndarray  # int32[N], unit of each account
    n_units: int
    terms: list[CostTerm]
    bal_values: np.ndarray  # float64[N, B]
    bal_share: np.ndarray  # float64[B, T], target share of each territory
    bal_tolerance: np.ndarray  # float64[B]
    bal_term: np.ndarray  # int32[B]
    keep_home: np.ndarray  # int32[N, K], home territory counted by the keep, or -1
    keep_value: np.ndarray  # float64[N, K]
    keep_term: np.ndarray  # int32[K]
    group_code: np.ndarray  # int32[N, S], soft-group value id (global), or -1
    group_slot: np.ndarray  # int32[G], soft-group term of each value id
    group_norm: np.ndarray  # float64[S], largest possible number of splits
    group_term: np.ndarray  # int32[S]
    group_fields: list[str]  # field of each soft-group term
    limits: list[LimitRow]
    limit_member: np.ndarray  # int32[N, L], 1 where the limit counts the account
    unassigned_ids: list[str] = field(default_factory=list)
    hard_group_fields: list[str] = field(default_factory=list)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_territories(self) -> int:
        return len(self.territory_ids)

    def bal_totals(self) -> np.ndarray:
        return self.bal_values.sum(axis=0)


def encode(accounts: pd.DataFrame, spec: PlanSpec) -> Encoding:
    """Validate the table against the spec and encode it (see the module docstring)."""
    frame = accounts.rename(columns={v: k for k, v in spec.columns.items()})
    frame = frame.reset_index(drop=True)
    ids = account_ids(frame, spec.id_column)
    territory_ids = spec.territory_ids
    index_of = {tid: index for index, tid in enumerate(territory_ids)}

    if spec.scope is not None:
        in_scope = spec.scope.evaluate(frame)
        if not in_scope.any():
            raise InputError(
                f"the scope filter {str(spec.scope)!r} matches none of the {len(frame)} "
                "accounts; widen [accounts].scope"
            )
        frame = frame.loc[in_scope]
        ids = ids[in_scope]
    if len(frame) == 0:
        raise InputError("the accounts table has no rows in scope; nothing to plan")

    balance_criteria = [c for c in spec.criteria if isinstance(c, Balance | Weight)]
    matched = _matched_by_balance(frame, balance_criteria)
    unassigned_ids: list[str] = []
    if spec.unmatched == "unassigned" and matched is not None and not matched.all():
        unassigned_ids = [str(value) for value in ids[~matched]]
        frame = frame.loc[matched]
        ids = ids[matched]
        matched = np.ones(len(frame), dtype=bool)

    for name in spec.overlay:
        require_column(frame, name, "overlay column")
    if len(territory_ids) > len(frame):
        warnings.warn(
            f"the plan has {len(territory_ids)} territories but only {len(frame)} accounts "
            "in scope, so some territories stay empty; use fewer territories",
            SmartPlanWarning,
            stacklevel=2,
        )
    home = _territory_column(frame, spec.owner_column, index_of, "owner", strict=False)
    owners: dict[str, np.ndarray] = {}
    if spec.owner_column is not None:
        owners[spec.owner_column] = home
    pin, pin_reason = _pins(frame, spec, index_of, home)
    parents = None if spec.parent is None else text_values(frame, spec.parent, "parent account id")
    children = _children(parents, ids)

    encoding_terms: list[tuple[int, str, str, float | None, float, str | None]] = []
    bal_values, bal_share, bal_tolerance, bal_slots = [], [], [], []
    keep_home_cols, keep_value_cols, keep_slots = [], [], []
    group_code_cols, group_norms, group_slots, group_fields = [], [], [], []
    hard_group_keys: list[np.ndarray] = []
    hard_group_fields: list[str] = []
    limits: list[LimitRow] = []
    limit_cols: list[np.ndarray] = []
    capacity = np.array([t.capacity for t in spec.territories], dtype=np.float64)
    n_territories = len(territory_ids)

    account_limit = _account_limit(spec, n_territories)
    if account_limit is not None:
        limits.append(account_limit)
        limit_cols.append(np.ones(len(frame), dtype=np.int32))

    for priority, criterion in enumerate(spec.criteria, start=1):
        mask = _mask(frame, criterion.where)
        if isinstance(criterion, Balance | Weight):
            values = _criterion_values(frame, criterion.metric, mask, criterion.kind)
            if not spec.pins_in_balance and spec.pin is not None:
                values = np.where(pin_reason == "pinned", 0.0, values)
            if not spec.children_count:
                values = np.where(children, 0.0, values)
            if not values.any():
                _warn_empty(priority, criterion, len(frame))
            bal_values.append(values)
            bal_share.append(_shares(criterion, spec, capacity))
            bal_tolerance.append(criterion.tolerance)
            bal_slots.append(len(encoding_terms))
            encoding_terms.append(
                (
                    priority,
                    criterion.kind,
                    _label(criterion),
                    criterion.weight,
                    criterion.tolerance,
                    criterion.metric,
                )
            )
        elif isinstance(criterion, Keep):
            # Each owner column is read once, so unknown owners are reported once.
            if criterion.owner not in owners:
                owners[criterion.owner] = _territory_column(
                    frame, criterion.owner, index_of, "owner", strict=False
                )
            owner = owners[criterion.owner]
            counted = np.where(mask, owner, -1).astype(np.int32)
            if criterion.mode == "hard":
                newly = (counted >= 0) & (pin < 0)
                pin[newly] = counted[newly]
                pin_reason[newly] = "kept"
                continue
            value = _criterion_values(frame, criterion.metric, mask & (counted >= 0), "keep")
            keep_home_cols.append(counted)
            keep_value_cols.append(value)
            keep_slots.append(len(encoding_terms))
            encoding_terms.append(
                (priority, "keep", _label(criterion), criterion.weight, 0.0, criterion.metric)
            )
        elif isinstance(criterion, Group):
            keys = text_values(frame, criterion.field, "group field")
            keys = keys.copy()
            keys[~mask] = None
            if criterion.mode == "hard":
                hard_group_keys.append(keys)
                hard_group_fields.append(criterion.field)
                continue
            codes, n_values = _codes(keys)
            group_code_cols.append(codes)
            group_norms.append(_split_norm(codes, n_values, n_territories))
            group_slots.append((len(encoding_terms), n_values))
            group_fields.append(criterion.field)
            encoding_terms.append(
                (priority, "group", _label(criterion), criterion.weight, 0.0, None)
            )
        elif isinstance(criterion, Limit):
            limits.append(_limit_row(criterion, territory_ids))
            limit_cols.append(mask.astype(np.int32))

    if matched is not None and not matched.all():
        # Accounts that no balance criterion counts are spread evenly by a last term.
        bal_values.append((~matched).astype(np.float64))
        bal_share.append(capacity / capacity.sum())
        bal_tolerance.append(0.0)
        bal_slots.append(len(encoding_terms))
        encoding_terms.append(
            (len(spec.criteria) + 1, "balance", "accounts matching no criterion", None, 0.0, None)
        )

    if spec.parent is not None:
        assert parents is not None
        hard_group_keys.append(_family_keys(parents, spec.parent, ids))
        hard_group_fields.append(spec.parent)
    unit, n_units = merge_units(hard_group_keys, len(frame))

    terms = _weighted_terms(encoding_terms, spec.search.weight_ratio)
    n = len(frame)
    global_slot = []
    offset = 0
    shifted_codes = []
    for slot, (codes, (_, n_values)) in enumerate(zip(group_code_cols, group_slots, strict=True)):
        shifted_codes.append(np.where(codes >= 0, codes + offset, -1))
        global_slot.extend([slot] * n_values)
        offset += n_values

    return Encoding(
        spec=spec,
        territory_ids=territory_ids,
        capacity=capacity,
        frame=frame,
        account_ids=ids,
        home=home,
        pin=pin,
        pin_reason=pin_reason,
        unit=unit,
        n_units=n_units,
        terms=terms,
        bal_values=_stack(bal_values, n, np.float64),
        bal_share=np.array(bal_share, dtype=np.float64).reshape(len(bal_share), n_territories),
        bal_tolerance=np.array(bal_tolerance, dtype=np.float64),
        bal_term=np.array(bal_slots, dtype=np.int32),
        keep_home=_stack(keep_home_cols, n, np.int32),
        keep_value=_stack(keep_value_cols, n, np.float64),
        keep_term=np.array(keep_slots, dtype=np.int32),
        group_code=_stack(shifted_codes, n, np.int32),
        group_slot=np.array(global_slot, dtype=np.int32),
        group_norm=np.array(group_norms, dtype=np.float64),
        group_term=np.array([slot for slot, _ in group_slots], dtype=np.int32),
        group_fields=group_fields,
        limits=limits,
        limit_member=_stack(limit_cols, n, np.int32),
        unassigned_ids=unassigned_ids,
        hard_group_fields=hard_group_fields,
    )


def _warn_empty(priority: int, criterion: Balance | Weight, n_accounts: int) -> None:
    where = f" where {criterion.where}" if criterion.where is not None else ""
    warnings.warn(
        f"criterion {priority} ({criterion.kind} {criterion.metric or 'accounts'}{where}) "
        f"counts nothing in the {n_accounts} accounts in scope, so it has no effect; "
        "check the filter's values and the metric column",
        SmartPlanWarning,
        stacklevel=3,
    )


def _stack(columns: list[np.ndarray], n: int, dtype: type) -> np.ndarray:
    if not columns:
        return np.zeros((n, 0), dtype=dtype)
    return np.ascontiguousarray(np.column_stack(columns).astype(dtype))


def _mask(frame: pd.DataFrame, where: Filter | None) -> np.ndarray:
    if where is None:
        return np.ones(len(frame), dtype=bool)
    return np.asarray(where.evaluate(frame), dtype=bool)


def _matched_by_balance(frame: pd.DataFrame, criteria: list) -> np.ndarray | None:
    """Accounts that at least one balance or weight criterion counts, or None if all are."""
    if not criteria or any(criterion.where is None for criterion in criteria):
        return None
    matched = np.zeros(len(frame), dtype=bool)
    for criterion in criteria:
        matched |= _mask(frame, criterion.where)
    return matched


def _criterion_values(
    frame: pd.DataFrame, metric: str | None, mask: np.ndarray, kind: str
) -> np.ndarray:
    if metric is None:
        return mask.astype(np.float64)
    values = np.zeros(len(frame))
    if mask.any():
        values[mask] = metric_values(frame.loc[mask], metric, f"{kind} metric")
    return values


def _territory_column(
    frame: pd.DataFrame,
    column: str | None,
    index_of: dict[str, int],
    purpose: str,
    strict: bool,
) -> np.ndarray:
    """Map a column of territory ids to indices; -1 for empty or, unless strict, unknown."""
    result = np.full(len(frame), -1, dtype=np.int32)
    if column is None:
        return result
    values = text_values(frame, column, f"{purpose} column")
    unknown_rows = []
    for row, value in enumerate(values):
        if value is None:
            continue
        index = index_of.get(value)
        if index is None:
            unknown_rows.append(row)
        else:
            result[row] = index
    if unknown_rows:
        rows = np.array(unknown_rows)
        names = sorted({values[row] for row in unknown_rows})
        message = (
            f"column {column!r} ({purpose}) names territories that are not in the plan "
            f"({', '.join(repr(name) for name in names[:5])}"
            f"{f' and {len(names) - 5} more' if len(names) > 5 else ''}) in "
            f"{describe_rows(rows, index=frame.index)}"
        )
        if strict:
            raise InputError(message + "; use territory ids from the spec or leave them empty")
        warnings.warn(
            message + "; those accounts have no home territory", SmartPlanWarning, stacklevel=3
        )
    return result


def _pins(
    frame: pd.DataFrame, spec: PlanSpec, index_of: dict[str, int], home: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    pin = _territory_column(frame, spec.pin, index_of, "pin", strict=True)
    reason = np.where(pin >= 0, "pinned", "").astype(object)
    return pin, reason


def _children(parents: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    """Return True for each account whose parent id (None for none) names another account."""
    if parents is None:
        return np.zeros(len(ids), dtype=bool)
    return np.array(
        [parent is not None and parent != own for parent, own in zip(parents, ids, strict=True)],
        dtype=bool,
    )


def _family_keys(parents: np.ndarray, column: str, ids: np.ndarray) -> np.ndarray:
    """Group key of each account's family: its top ancestor in the table, or its parent id."""
    parent_of = {
        own: parent for own, parent in zip(ids, parents, strict=True) if parent not in (None, own)
    }
    keys = np.empty(len(ids), dtype=object)
    for row, own in enumerate(ids):
        key = own
        seen = {own}
        while key in parent_of:
            key = parent_of[key]
            if key in seen:
                raise InputError(
                    f"column {column!r} has a cycle of parent ids through account "
                    f"{own!r}; a family needs one top account with an empty parent"
                )
            seen.add(key)
        keys[row] = key
    return keys


def _codes(keys: np.ndarray) -> tuple[np.ndarray, int]:
    present = np.array([key is not None for key in keys], dtype=bool)
    codes = np.full(len(keys), -1, dtype=np.int32)
    if present.any():
        factor, uniques = pd.factorize(pd.Series(keys[present], dtype=object), sort=True)
        codes[present] = factor
        return codes, len(uniques)
    return codes, 0


def _split_norm(codes: np.ndarray, n_values: int, n_territories: int) -> float:
    """Largest possible number of extra territories over all values of a soft group."""
    sizes = np.bincount(codes[codes >= 0], minlength=n_values)
    return float(np.maximum(np.minimum(sizes, n_territories) - 1, 0).sum())


def _shares(criterion: Balance | Weight, spec: PlanSpec, capacity: np.ndarray) -> np.ndarray:
    """Target share of each territory: by capacity, or by the weight's given shares."""
    if isinstance(criterion, Balance):
        return capacity / capacity.sum()
    ids = spec.territory_ids
    share = np.zeros(len(ids))
    if set(criterion.shares) <= set(ids):
        for tid, value in criterion.shares.items():
            share[ids.index(tid)] = value
        return share
    tiers = np.array([t.tier for t in spec.territories], dtype=object)
    for tier, value in criterion.shares.items():
        members = tiers == tier
        share[members] = value * capacity[members] / capacity[members].sum()
    return share


def _account_limit(spec: PlanSpec, n_territories: int) -> LimitRow | None:
    """Accounts per territory from plan.max_accounts / min_accounts and the territory table."""
    maximum = np.full(n_territories, NO_LIMIT, dtype=np.int32)
    minimum = np.zeros(n_territories, dtype=np.int32)
    used = False
    for t, territory in enumerate(spec.territories):
        for cap in (spec.max_accounts, territory.max_accounts):
            if cap is not None:
                maximum[t] = min(maximum[t], cap)
                used = True
        for floor in (spec.min_accounts, territory.min_accounts):
            if floor is not None:
                minimum[t] = max(minimum[t], floor)
                used = True
    if not used:
        return None
    return LimitRow(label="accounts per territory", minimum=minimum, maximum=maximum)


def _limit_row(criterion: Limit, territory_ids: list[str]) -> LimitRow:
    n_territories = len(territory_ids)
    applies = np.ones(n_territories, dtype=bool)
    if criterion.territories is not None:
        applies = np.isin(np.array(territory_ids, dtype=object), list(criterion.territories))
    maximum = np.full(n_territories, NO_LIMIT, dtype=np.int32)
    minimum = np.zeros(n_territories, dtype=np.int32)
    if criterion.max is not None:
        maximum[applies] = criterion.max
    if criterion.min is not None:
        minimum[applies] = criterion.min
    return LimitRow(label=_label(criterion), minimum=minimum, maximum=maximum)


def _label(criterion: Balance | Weight | Keep | Group | Limit) -> str:
    if criterion.name:
        return criterion.name
    if isinstance(criterion, Balance | Weight):
        what = criterion.metric or "accounts"
        text = f"{criterion.kind} {what}"
    elif isinstance(criterion, Keep):
        text = f"keep {criterion.owner}" + (f" by {criterion.metric}" if criterion.metric else "")
    elif isinstance(criterion, Group):
        text = f"group {criterion.field}"
    else:
        bounds = []
        if criterion.min is not None:
            bounds.append(f"at least {criterion.min}")
        if criterion.max is not None:
            bounds.append(f"at most {criterion.max}")
        text = f"limit {' and '.join(bounds)} accounts"
    if criterion.where is not None:
        text += f" where {criterion.where}"
    return text


def _weighted_terms(
    raw: list[tuple[int, str, str, float | None, float, str | None]], ratio: float
) -> list[CostTerm]:
    """Give term k of n the weight ratio ** (n - 1 - k), unless the spec sets a weight."""
    n = len(raw)
    return [
        CostTerm(
            priority=priority,
            kind=kind,
            label=label,
            weight=float(weight) if weight is not None else float(ratio ** (n - 1 - rank)),
            tolerance=tolerance,
            metric=metric,
        )
        for rank, (priority, kind, label, weight, tolerance, metric) in enumerate(raw)
    ]
