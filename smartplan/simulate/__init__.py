"""Simulations: one spec over a grid of territory counts x seeds x spec variants.

`simulate` returns one row per run with its scorecard summary, `summarize` the median and
spread over seeds per grid point, and `plot_sweep` draws the key figures against the
territory count. Runs go to local processes (`LocalExecutor`, the default) or to a Dask
distributed cluster (`DaskExecutor`).

Modules: grid (territory counts, seeds, tasks), variants (partial specs layered over the
base spec), run (one run to one row), executors (local processes and Dask), warmup
(kernel cache counters), summary, chart, sweep (`simulate`).

`import smartplan` binds `smartplan.simulate` to the function. Import this package's names
with `from smartplan.simulate import ...` or its modules with
`from smartplan.simulate.grid import ...`.
"""

from smartplan.simulate.chart import plot_sweep
from smartplan.simulate.executors import DaskExecutor, Executor, LocalExecutor
from smartplan.simulate.grid import RunTask, parse_territory_counts
from smartplan.simulate.summary import summarize
from smartplan.simulate.sweep import simulate

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "RunTask",
    "parse_territory_counts",
    "plot_sweep",
    "simulate",
    "summarize",
]
