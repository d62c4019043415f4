"""The plan report: a self-contained HTML page of what changed, why, and how balanced.

`render_report(plan)` returns the page and `write_report(plan, path)` writes it; `plan` is a
`Plan` from `solve`, or a plan read back from its file (`smartplan.plan_file.match_plan`).
Drawing the charts needs matplotlib, installed by the `report` extra.
"""

from smartplan.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
