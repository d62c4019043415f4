"""Exceptions raised for bad input, invalid specs and infeasible plans.

Every error carries one message that names the value, the rows or field involved, and the
fix. The command-line interface prints the message and exits with status 2.
"""


class SmartPlanError(Exception):
    """Base class of every error SmartPlan raises on purpose."""


class SpecError(SmartPlanError):
    """An invalid plan spec: unknown key, wrong type, or inconsistent values."""


class FilterError(SmartPlanError):
    """A `where` filter that does not parse or refers to a missing column."""


class InputError(SmartPlanError):
    """An accounts table that cannot be planned: missing columns, bad ids or metrics."""


class InfeasibleError(SmartPlanError):
    """A spec that no plan can satisfy, found by presolve or by the search."""


class SmartPlanWarning(UserWarning):
    """A problem in the input that SmartPlan works around, such as an unknown owner."""
