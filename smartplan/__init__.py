"""SmartPlan: balanced, reproducible sales territory plans.

The public API: `solve` plans an accounts DataFrame under a spec and returns a `Plan`;
`load_spec` reads a TOML spec; the spec dataclasses build one in Python; `score` measures
any assignment; `simulate` runs a spec over a grid of territory counts, seeds and variants.
"""

from smartplan.errors import (
    FilterError,
    InfeasibleError,
    InputError,
    SmartPlanError,
    SmartPlanWarning,
    SpecError,
)
from smartplan.plan import Plan, solve

# Binds `smartplan.simulate` to the function; the package stays importable by its modules.
from smartplan.simulate import simulate
from smartplan.spec import (
    Balance,
    Group,
    Keep,
    Limit,
    PlanSpec,
    Search,
    Territory,
    Weight,
    load_spec,
    spec_from_dict,
)

__all__ = [
    "Balance",
    "FilterError",
    "Group",
    "InfeasibleError",
    "InputError",
    "Keep",
    "Limit",
    "Plan",
    "PlanSpec",
    "Search",
    "SmartPlanError",
    "SmartPlanWarning",
    "SpecError",
    "Territory",
    "Weight",
    "load_spec",
    "simulate",
    "solve",
    "spec_from_dict",
]
