"""Leave coverage: dated, reversible assignments for absent territories.

When a rep goes on leave or a seat is open, the absent territory's accounts are shared over
its teammates for a window of days and return when it ends.

A coverage file has one row per account and period, with the columns
(account_id, territory, valid_from, valid_to, reason). Every row covers the half-open
interval of days [valid_from, valid_to): valid_from is the first day of the row and
valid_to the first day after it. An empty valid_from means "since before any date" and an
empty valid_to "with no end date". The rows of one account tile the calendar with no gap
and no overlap, so a covered plan resolves as of any date to exactly one owner per account
(`Coverage.owners_on`). A plan file reads as a coverage with one open row per account.

Covering (`cover`) adds one `Absence` of territory T on the days [start, end):

- The teammates are the territories that exist on `start` and are absent on no day of the
  window, and, with a team column, share T's team value. A territory absent on any day of
  a window receives no accounts for that window, so when two absences overlap in time,
  neither absent territory covers for the other.
- T's accounts are balanced over the teammates by a plan within the plan that counts
  each teammate's existing accounts (see `smartplan.coverage.subplan` for which criteria
  it keeps). The same inputs and seed give the same coverage.
- On `end` the accounts return to T, or go to `return_to` for good. In that case T stays
  absent from `start` on, and `return_to` may be a new territory that starts on `end`.
- A coverage can be covered again. When T was covering for another absence that overlaps
  its own, those accounts are re-covered by T's teammates for that absence's whole window.

The reason column records the absences, so a coverage file is all that later covering
needs: covered rows read `covering T [start, end)`, with `, handover to T2` when the
accounts go to T2, whose rows then read `handover from T`. Other rows keep the plan's
reason.
"""

from smartplan.coverage.absence import OPEN_END, OPEN_START, Absence, parse_day
from smartplan.coverage.cover import CoverResult, Recovered, cover
from smartplan.coverage.timeline import COVERAGE_COLUMNS, Coverage, Span

__all__ = [
    "COVERAGE_COLUMNS",
    "OPEN_END",
    "OPEN_START",
    "Absence",
    "CoverResult",
    "Coverage",
    "Recovered",
    "Span",
    "cover",
    "parse_day",
]
