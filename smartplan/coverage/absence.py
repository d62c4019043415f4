"""Days and absences: ISO dates with open ends, and the reasons that record an absence.

A covering row's reason records its absence in full, `covering T [start, end)` with
`, handover to T2` when the accounts go to T2, so a coverage file is all that later
covering needs. The rows T2 receives on the end date read `handover from T`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from smartplan.errors import InputError

OPEN_START = date.min  # an empty valid_from: owned since before any date
OPEN_END = date.max  # an empty valid_to: owned with no end date
_DAY = r"\d{4}-\d{2}-\d{2}"
_COVERING = re.compile(
    rf"covering (?P<territory>.+) \[(?P<start>{_DAY}), (?P<end>{_DAY})\)"
    r"(?:, handover to (?P<return_to>.+))?"
)
_HANDOVER = "handover from "


def parse_day(text: str, what: str) -> date:
    """Parse an ISO date (YYYY-MM-DD); `what` names the value in the error message."""
    text = text.strip()
    if not re.fullmatch(_DAY, text):
        raise InputError(
            f"{what} {text!r} is not a date in the form YYYY-MM-DD, such as 2027-01-04"
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{what} {text!r} is not a calendar date; check the month and day"
        ) from None
    if day in (OPEN_START, OPEN_END):
        raise InputError(f"{what} {text!r} must lie between 0001-01-02 and 9999-12-30")
    return day


def format_day(day: date) -> str | None:
    """Return the ISO text of a day, or None for the open start and the open end."""
    return None if day in (OPEN_START, OPEN_END) else day.isoformat()


@dataclass(frozen=True)
class Absence:
    """A territory absent on the days [start, end), its accounts covered by teammates.

    With `return_to`, the accounts go to that territory on `end` instead of coming back,
    and the absent territory stays absent from `start` on, without an end.
    """

    territory: str
    start: date
    end: date
    return_to: str | None = None

    @property
    def absent_until(self) -> date:
        return OPEN_END if self.return_to is not None else self.end

    def overlaps(self, start: date, end: date) -> bool:
        """True when the territory is absent on at least one day of [start, end)."""
        return self.start < end and start < self.absent_until

    def covering_reason(self) -> str:
        """Return the reason of a teammate's row for this absence; it records the absence."""
        text = f"covering {self.territory} [{self.start.isoformat()}, {self.end.isoformat()})"
        if self.return_to is not None:
            text += f", handover to {self.return_to}"
        return text

    def describe(self) -> str:
        text = f"{self.territory} absent [{self.start.isoformat()}, {self.end.isoformat()})"
        if self.return_to is not None:
            text += f", then handed over to {self.return_to}"
        return text


def absence_of(reason: str) -> Absence | None:
    """Return the absence a covering row records in its reason, or None for any other row."""
    match = _COVERING.fullmatch(reason)
    if match is None:
        return None
    return Absence(
        territory=match["territory"],
        start=date.fromisoformat(match["start"]),
        end=date.fromisoformat(match["end"]),
        return_to=match["return_to"],
    )


def handover_reason(territory: str) -> str:
    """Return the reason of a row received when `territory` handed its accounts over."""
    return _HANDOVER + territory
