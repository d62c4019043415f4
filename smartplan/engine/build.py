"""Aggregate a per-account `Encoding` into the unit-level `Model` the search runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from smartplan.encode import Encoding
from smartplan.engine.model import Model
from smartplan.errors import InfeasibleError


@dataclass(frozen=True)
class Built:
    """The search model plus what the greedy start needs."""

    model: Model
    preferred: np.ndarray  # int32[U], home territory a soft keep prefers, or -1
    unit_pin: np.ndarray  # int32[U]


def build_model(encoding: Encoding) -> Built:
    n_units = encoding.n_units
    n_territories = encoding.n_territories
    unit = encoding.unit.astype(np.int64)
    weights = np.array([term.weight for term in encoding.terms], dtype=np.float64)

    unit_pin = _unit_pins(encoding)

    n_balance = encoding.bal_values.shape[1]
    bal_values = np.zeros((n_units, n_balance))
    for c in range(n_balance):
        bal_values[:, c] = np.bincount(unit, weights=encoding.bal_values[:, c], minlength=n_units)
    totals = encoding.bal_values.sum(axis=0)
    targets = encoding.bal_share * totals[:, None]
    tolerance = encoding.bal_tolerance[:, None]
    bal_scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)

    keep_rows = []
    for slot in range(encoding.keep_home.shape[1]):
        has_home = encoding.keep_home[:, slot] >= 0
        rows = np.flatnonzero(has_home)
        keep_rows.append(
            (
                unit[rows],
                np.full(len(rows), slot),
                encoding.keep_home[rows, slot],
                encoding.keep_value[rows, slot],
            )
        )
    keep_ptr, (keep_slot, keep_home), keep_value = _csr(keep_rows, n_units, 2)
    keep_totals = encoding.keep_value.sum(axis=0)
    keep_scale = np.divide(1.0, keep_totals, out=np.zeros_like(keep_totals), where=keep_totals > 0)

    group_rows = []
    for slot in range(encoding.group_code.shape[1]):
        rows = np.flatnonzero(encoding.group_code[:, slot] >= 0)
        group_rows.append((unit[rows], encoding.group_code[rows, slot], np.ones(len(rows))))
    group_ptr, (group_value,), group_count = _csr(group_rows, n_units, 1)
    norm = encoding.group_norm
    group_scale = np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0)

    limit_rows = []
    for lim in range(encoding.limit_member.shape[1]):
        rows = np.flatnonzero(encoding.limit_member[:, lim] > 0)
        limit_rows.append((unit[rows], np.full(len(rows), lim), encoding.limit_member[rows, lim]))
    limit_ptr, (limit_id,), limit_count = _csr(limit_rows, n_units, 1)
    limit_min = np.array([row.minimum for row in encoding.limits], dtype=np.int32)
    limit_max = np.array([row.maximum for row in encoding.limits], dtype=np.int32)

    model = Model(
        n_territories=n_territories,
        movable=np.flatnonzero(unit_pin < 0).astype(np.int32),
        unit_pin=unit_pin,
        bal_values=np.ascontiguousarray(bal_values),
        bal_lo=np.ascontiguousarray(targets * (1.0 - tolerance)),
        bal_hi=np.ascontiguousarray(targets * (1.0 + tolerance)),
        bal_scale=bal_scale,
        bal_term=encoding.bal_term.astype(np.int32),
        keep_ptr=keep_ptr,
        keep_slot=keep_slot.astype(np.int32),
        keep_home=keep_home.astype(np.int32),
        keep_value=keep_value.astype(np.float64),
        keep_scale=keep_scale,
        keep_term=encoding.keep_term.astype(np.int32),
        group_ptr=group_ptr,
        group_value=group_value.astype(np.int32),
        group_count=group_count.astype(np.int32),
        group_slot=encoding.group_slot.astype(np.int32),
        group_scale=group_scale,
        group_term=encoding.group_term.astype(np.int32),
        limit_ptr=limit_ptr,
        limit_id=limit_id.astype(np.int32),
        limit_count=limit_count.astype(np.int32),
        limit_min=limit_min.reshape(len(encoding.limits), n_territories),
        limit_max=limit_max.reshape(len(encoding.limits), n_territories),
        weights=weights,
    )
    return Built(model=model, preferred=_preferred_homes(model, unit_pin), unit_pin=unit_pin)


def _unit_pins(encoding: Encoding) -> np.ndarray:
    """Pinned territory of each unit; a unit whose accounts are pinned apart is infeasible."""
    unit_pin = np.full(encoding.n_units, -1, dtype=np.int32)
    pinned = np.flatnonzero(encoding.pin >= 0)
    for row in pinned:
        u = encoding.unit[row]
        t = encoding.pin[row]
        if unit_pin[u] >= 0 and unit_pin[u] != t:
            members = np.flatnonzero((encoding.unit == u) & (encoding.pin >= 0))
            detail = ", ".join(
                f"{encoding.account_ids[m]} -> {encoding.territory_ids[encoding.pin[m]]}"
                f" ({encoding.pin_reason[m]})"
                for m in members[:6]
            )
            raise InfeasibleError(
                f"accounts of one hard group ({', '.join(encoding.hard_group_fields)}) are "
                f"pinned to different territories: {detail}. Pin them to one territory, or "
                "make the group soft"
            )
        unit_pin[u] = t
    return unit_pin


def _csr(
    parts: list[tuple[Any, ...]], n_units: int, n_keys: int
) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
    """Sum values over equal (unit, keys...) rows and return CSR (ptr, keys, values).

    Each part is (unit, key_1, ..., key_n, value) arrays of one length.
    """
    if parts:
        columns = [np.concatenate([part[i] for part in parts]) for i in range(n_keys + 2)]
    else:
        columns = [np.zeros(0, dtype=np.int64) for _ in range(n_keys + 2)]
    units = columns[0].astype(np.int64)
    keys = [column.astype(np.int64) for column in columns[1 : n_keys + 1]]
    values = columns[n_keys + 1].astype(np.float64)
    if len(units):
        order = np.lexsort([*reversed(keys), units])
        units = units[order]
        keys = [key[order] for key in keys]
        values = values[order]
        change = np.ones(len(units), dtype=bool)
        change[1:] = units[1:] != units[:-1]
        for key in keys:
            change[1:] |= key[1:] != key[:-1]
        starts = np.flatnonzero(change)
        values = np.add.reduceat(values, starts)
        units = units[starts]
        keys = [key[starts] for key in keys]
    ptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(units, minlength=n_units), out=ptr[1:])
    return ptr, tuple(keys), values


def _preferred_homes(model: Model, unit_pin: np.ndarray) -> np.ndarray:
    """Return the home with the largest weighted keep value of each unpinned unit, or -1."""
    preferred = np.full(unit_pin.shape[0], -1, dtype=np.int32)
    if model.keep_home.shape[0] == 0:
        return preferred
    entry_unit = np.repeat(np.arange(unit_pin.shape[0]), np.diff(model.keep_ptr))
    score = (
        model.weights[model.keep_term[model.keep_slot]]
        * model.keep_scale[model.keep_slot]
        * model.keep_value
    )
    order = np.lexsort((-score, entry_unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = entry_unit[order][1:] != entry_unit[order][:-1]
    chosen = order[first & (score[order] > 0)]
    preferred[entry_unit[chosen]] = model.keep_home[chosen]
    preferred[unit_pin >= 0] = -1
    return preferred
