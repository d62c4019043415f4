"""A plan read back from its file and matched to the encoded accounts it was made from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smartplan.columns import account_ids, text_values
from smartplan.encode import Encoding
from smartplan.errors import InputError, SmartPlanWarning


@dataclass(frozen=True)
class PlanAssignment:
    """The encoded accounts of a plan and the territory of each one."""

    encoding: Encoding
    account_territory: np.ndarray  # int32[N], index into encoding.territory_ids


def match_plan(encoding: Encoding, plan: pd.DataFrame, source: str) -> PlanAssignment:
    """Match a plan table (account_id, territory) to `encoding`.

    Every account in scope needs a row with a territory of the spec; rows for accounts
    outside the scope are ignored. `source` names the plan in error messages.
    """
    ids = account_ids(plan, "account_id")
    territories = text_values(plan, "territory", "plan territory")
    by_id = dict(zip(ids, territories, strict=True))
    missing = [a for a in encoding.account_ids if by_id.get(a) is None]
    if missing:
        raise InputError(
            f"plan {source} gives no territory for {len(missing)} accounts in scope, such as "
            f"{missing[:5]}; use the accounts file and spec the plan was made from"
        )
    index_of = {tid: i for i, tid in enumerate(encoding.territory_ids)}
    in_scope = [by_id[a] for a in encoding.account_ids]
    unknown = sorted({t for t in in_scope if t not in index_of})
    if unknown:
        raise InputError(
            f"plan {source} uses territories {unknown[:5]} that the spec does not define; "
            f"the spec's territories are {encoding.territory_ids[:10]}"
        )
    scoped = set(encoding.account_ids)
    extra = [a for a, t in by_id.items() if a not in scoped and t is not None]
    if extra:
        warnings.warn(
            f"plan {source} assigns {len(extra)} accounts that are not in scope of the "
            f"accounts file and spec, such as {extra[:5]}; they are ignored",
            SmartPlanWarning,
            stacklevel=2,
        )
    account_territory = np.array([index_of[t] for t in in_scope], dtype=np.int32)
    return PlanAssignment(encoding=encoding, account_territory=account_territory)
