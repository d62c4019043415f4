"""Exact baselines: the engine's objective and hard constraints for HiGHS and CP-SAT."""

from smartplan.baselines.cpsat import solve_cpsat
from smartplan.baselines.mip import solve_mip
from smartplan.baselines.result import BaselinePlan, BaselineStats

__all__ = ["BaselinePlan", "BaselineStats", "solve_cpsat", "solve_mip"]
