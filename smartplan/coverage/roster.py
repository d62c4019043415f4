"""The territories of a covered plan, the day each one starts, and who can cover whom.

`check_absence` rejects an absence that the roster and the recorded absences rule out.

The roster is the spec's territories plus every new territory that an absence hands its
accounts over to (`--return-to`). A spec territory exists from the open start. A new one
starts on the end date of the absence that creates it, with the tier and capacity of the
territory it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from smartplan.coverage.absence import OPEN_END, OPEN_START, Absence, absence_of
from smartplan.coverage.timeline import Coverage
from smartplan.errors import InputError
from smartplan.spec import PlanSpec, Territory


@dataclass(frozen=True)
class Roster:
    """Territories by id, in spec order then in order of creation, with their start days."""

    territories: Mapping[str, Territory]
    starts: Mapping[str, date]

    @classmethod
    def build(cls, spec: PlanSpec, absences: Sequence[Absence]) -> Roster:
        territories = {territory.id: territory for territory in spec.territories}
        starts = dict.fromkeys(territories, OPEN_START)
        for absence in sorted(absences, key=lambda a: (a.end, a.territory)):
            successor = absence.return_to
            if successor is None or successor in territories:
                continue
            territories[successor] = replace(
                territories[absence.territory], id=successor, name=successor
            )
            starts[successor] = absence.end
        return cls(territories, starts)

    @property
    def ids(self) -> list[str]:
        return list(self.territories)

    def teammates(
        self,
        territory: str,
        start: date,
        end: date,
        schedule: Sequence[Absence],
        teams: Mapping[str, str] | None,
    ) -> list[str]:
        """Return the territories that can take accounts of `territory` on the days [start, end).

        A teammate has started by `start`, is absent on no day of the window and, when
        `teams` is given, has the same team value as `territory`.
        """
        absent = {a.territory for a in schedule if a.overlaps(start, end)}
        return [
            candidate
            for candidate in self.territories
            if candidate != territory
            and self.starts[candidate] <= start
            and candidate not in absent
            and (teams is None or _same_team(teams, candidate, territory))
        ]


def _same_team(teams: Mapping[str, str], candidate: str, territory: str) -> bool:
    return candidate in teams and teams[candidate] == teams.get(territory)


def team_values(
    coverage: Coverage, team_of_account: Mapping[str, str | None], column: str
) -> dict[str, str]:
    """Find the team value of every territory: the one value of `column` over its own accounts.

    A territory's own accounts are its rows that do not cover an absence, over the whole
    calendar. A territory with no own accounts has no team. Raises `InputError` when the
    accounts of one territory carry several values, or none.
    """
    values: dict[str, dict[str | None, str]] = {}
    for account, spans in coverage.timelines.items():
        for span in spans:
            if not span.territory or absence_of(span.reason) is not None:
                continue
            values.setdefault(span.territory, {}).setdefault(team_of_account[account], account)
    teams = {}
    for territory, found in values.items():
        if len(found) > 1:
            shown = ", ".join(
                f"{value!r} (account {account})" for value, account in list(found.items())[:4]
            )
            raise InputError(
                f"--team {column}: the accounts of territory {territory} have several values "
                f"of {column!r}: {shown}; name a column whose value is the same for all "
                "accounts of a territory, or leave --team out"
            )
        ((value, account),) = found.items()
        if value is None:
            raise InputError(
                f"--team {column}: account {account} of territory {territory} has no value in "
                f"column {column!r}; fill in the team of every account"
            )
        teams[territory] = value
    return teams


def check_absence(
    absence: Absence, coverage: Coverage, roster: Roster, known: Sequence[Absence]
) -> None:
    """Reject an absence that cannot be added, with one message naming the fix."""
    start, end = absence.start, absence.end
    if end <= start:
        raise InputError(
            f"the end date {end} is not after the start date {start}; an absence covers the "
            "days [start, end), so the end is the first day back"
        )

    strangers = [tid for tid in coverage.territories() if tid not in roster.territories]
    if strangers:
        raise InputError(
            f"the plan uses territories {strangers[:5]} that the spec does not define; use the "
            "spec the plan was made with"
        )

    territory = absence.territory
    if territory not in roster.territories:
        raise InputError(
            f"unknown territory {territory!r}; the plan's territories are {', '.join(roster.ids)}"
        )
    if roster.starts[territory] > start:
        raise InputError(
            f"territory {territory} starts on {roster.starts[territory]}, after the start "
            f"date {start}; an absence starts on or after the territory's first day"
        )
    for other in known:
        if other.territory == territory and other.overlaps(start, absence.absent_until):
            raise InputError(
                f"the new absence of {territory} [{start}, {end}) overlaps its recorded "
                f"absence: {other.describe()}; absences of one territory must not overlap"
            )

    if absence.return_to is not None:
        _check_return_to(absence, absence.return_to, roster, known)


def _check_return_to(
    absence: Absence, successor: str, roster: Roster, known: Sequence[Absence]
) -> None:
    """Reject a `return_to` territory that cannot take the accounts over on the end date."""
    end = absence.end
    if successor == absence.territory:
        raise InputError(
            f"--return-to names the absent territory {successor}; leave it out to bring the "
            "accounts back, or name the territory that takes them over"
        )
    if successor in roster.territories and roster.starts[successor] > end:
        raise InputError(
            f"--return-to {successor} starts on {roster.starts[successor]}, after the end "
            f"date {end}; hand the accounts over to a territory that exists by then"
        )
    for other in known:
        if other.territory == successor and other.overlaps(end, OPEN_END):
            raise InputError(
                f"--return-to {successor} is absent on or after the handover on {end} "
                f"({other.describe()}); hand the accounts over to a territory present from "
                f"{end} on"
            )
