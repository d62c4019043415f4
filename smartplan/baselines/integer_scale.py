"""Integer coefficients for CP-SAT, with a proven bound on the rounding error.

CP-SAT only takes integers. The objective is counted in units of `q` cost units, with `q`
chosen so that the largest possible objective is about 2**58 units (CP-SAT rejects models
whose objective could overflow a 64-bit integer). Each balance term b measures its metric
in units of 1 / k_b, so that the term's total becomes at most 10**9 units; a deviation of
d_int units costs a_b objective units, a_b = round(weight_b / (k_b q)) >= 1. With totals of
2**50 units, CP-SAT 9.15 returned plans far from the optimum as optimal on 8-account tests.
A keep pair and a soft-group value get a_e = round(weight_e / q).

`error` bounds, in objective units, how far the integer objective of any plan can be from
its exact cost / q: every rounded metric value, band edge and coefficient contributes its
rounding times the largest count it can be multiplied by. A CP-SAT bound B therefore proves
that no plan costs less than q (B - error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartplan.baselines.formulation import Formulation

OBJECTIVE_UNITS = 2.0**58
TERM_UNITS = 1e9


@dataclass(frozen=True)
class ScaledBalance:
    """One balance term in integers: values, band edges and the objective coefficient."""

    values: np.ndarray  # int64[U]
    lo: np.ndarray  # int64[T]
    hi: np.ndarray  # int64[T]
    coefficient: int  # objective units per unit of deviation


@dataclass(frozen=True)
class IntegerScale:
    """The integer model's data and the unit that converts its objective to cost."""

    unit: float  # q: cost of one objective unit
    balance: list[ScaledBalance]
    keep: np.ndarray  # int64[K'], objective units when the unit leaves its home
    group: np.ndarray  # int64[G'], objective units per extra territory
    error: float  # largest |integer objective - cost / unit| over all plans, in objective units

    def to_cost(self, objective: float) -> float:
        return float(objective) * self.unit


def scale_formulation(formulation: Formulation) -> IntegerScale:
    """Round the formulation's data to integers (see the module docstring)."""
    n_territories = formulation.n_territories
    group_holders = np.diff(formulation.groups.ptr)
    most_splits = np.minimum(group_holders, n_territories) - 1
    largest = sum(2.0 * rows.weight * rows.total for rows in formulation.balance)
    largest += float(formulation.keep_weight.sum())
    largest += float((formulation.groups.weight * most_splits).sum())
    if largest <= 0.0:
        largest = 1.0
    unit = largest / OBJECTIVE_UNITS

    balance = []
    error = 0.0
    for rows in formulation.balance:
        term_units = min(TERM_UNITS, rows.weight * rows.total / unit)
        k = term_units / rows.total
        coefficient = max(1, round(rows.weight / (k * unit)))
        values = np.rint(rows.values * k)
        lo = np.rint(rows.lo * k)
        hi = np.rint(rows.hi * k)
        value_error = float(np.abs(values - rows.values * k).sum())
        edge_error = float(np.maximum(np.abs(lo - rows.lo * k), np.abs(hi - rows.hi * k)).sum())
        # Exact cost / unit = (weight / (k unit)) * (k * deviation). A territory deviates by
        # at most its sum plus its lower edge, so all territories by at most total + sum(lo).
        coefficient_error = (
            abs(rows.weight / (k * unit) - coefficient) * k * (rows.total + float(rows.lo.sum()))
        )
        error += coefficient * (value_error + edge_error) + coefficient_error
        balance.append(
            ScaledBalance(
                values=values.astype(np.int64),
                lo=lo.astype(np.int64),
                hi=hi.astype(np.int64),
                coefficient=int(coefficient),
            )
        )

    keep_exact = formulation.keep_weight / unit
    keep = np.rint(keep_exact)
    error += float(np.abs(keep - keep_exact).sum())
    group_exact = formulation.groups.weight / unit
    group = np.rint(group_exact)
    error += float((np.abs(group - group_exact) * most_splits).sum())
    return IntegerScale(
        unit=unit,
        balance=balance,
        keep=keep.astype(np.int64),
        group=group.astype(np.int64),
        error=error,
    )
