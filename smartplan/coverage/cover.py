"""`cover`: add one absence to a plan or a coverage, and share its accounts over teammates.

Covering runs in three steps. First, every absence of another territory that the absent
territory helps to cover and that overlaps the new absence is re-covered without it, over
its teammates, for that absence's whole window. Then the absent territory's own accounts
are shared over its teammates for the days [start, end). Last, on the end date the accounts
come back, or go to the `return_to` territory for good.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from smartplan.columns import account_ids, text_values
from smartplan.coverage.absence import OPEN_END, Absence, absence_of, handover_reason
from smartplan.coverage.roster import Roster, check_absence, team_values
from smartplan.coverage.subplan import share_out
from smartplan.coverage.timeline import Coverage
from smartplan.errors import InputError
from smartplan.spec import PlanSpec, load_spec


@dataclass(frozen=True)
class Recovered:
    """Accounts of another absence that the newly absent territory held, now re-covered."""

    absence: Absence
    accounts: int
    shares: pd.DataFrame


@dataclass(frozen=True)
class CoverResult:
    """The new coverage, and how the absent territory's accounts were shared out.

    `shares` has one row per teammate: `held` (accounts it already holds in the window),
    `added` (covered accounts it receives) and, per balance criterion of the sub-plan, its
    share of the covered accounts' total, as a fraction.
    """

    coverage: Coverage
    absence: Absence
    teammates: list[str]
    shares: pd.DataFrame
    recovered: list[Recovered]
    findings: list[str]

    def spread(self) -> pd.DataFrame:
        """Per balance criterion: the largest teammate's share, the even share 1/n, their ratio."""
        even = 1.0 / len(self.teammates)
        rows = []
        for column in self.shares.columns[3:]:
            largest = float(self.shares[column].max())
            rows.append((column, largest, even, largest / even))
        return pd.DataFrame(rows, columns=["criterion", "largest_share", "even_share", "ratio"])


def cover(
    plan: Coverage | pd.DataFrame,
    accounts: pd.DataFrame,
    spec: PlanSpec | str | Path,
    absence: Absence,
    team: str | None = None,
    seed: int | None = None,
    moves: int | None = None,
) -> CoverResult:
    """Cover `absence` in a plan (account_id, territory[, reason]) or in a coverage.

    Parameters
    ----------
    accounts
        The accounts table the plan was made from; the spec names its columns.
    team
        An accounts column whose value is the same for all accounts of a territory. The
        teammates are the territories with the absent territory's value. Without it, every
        other territory is a teammate.
    seed, moves
        Override the spec's seed and the move budget of each sub-plan. The same inputs and
        seed give the same coverage when the search stops by its move budget.
    """
    if not isinstance(spec, PlanSpec):
        spec = load_spec(spec)
    coverage = plan if isinstance(plan, Coverage) else Coverage.from_table(plan)
    known = coverage.absences()
    roster = Roster.build(spec, known)
    check_absence(absence, coverage, roster, known)
    table = _accounts_by_id(accounts, spec, coverage)
    schedule = [*known, absence]
    teams = None
    if team is not None:
        # The table's headers are renamed to the spec's names; accept either spelling.
        team = {header: name for name, header in spec.columns.items()}.get(team, team)
        team_of_account = dict(
            zip(table.index, text_values(table, team, "team column"), strict=True)
        )
        teams = team_values(coverage, team_of_account, team)

    absent = absence.territory
    scope = _own_accounts(coverage, absent, absence.start, absence.end)
    if not scope:
        raise InputError(
            f"territory {absent} owns no accounts from {absence.start} to {absence.end}; "
            "there is nothing to cover"
        )
    duties = _covering_duties(coverage, absence)
    duty_peers = []
    for duty, _ in duties:
        context = f"the accounts {absent} holds for {duty.describe()}"
        duty_peers.append(
            _teammates(roster, absent, duty.start, duty.end, schedule, teams, context)
        )
    peers = _teammates(roster, absent, absence.start, absence.end, schedule, teams, "")

    recovered = []
    findings: list[str] = []
    for (duty, duty_accounts), duty_team in zip(duties, duty_peers, strict=True):
        shared = share_out(
            table,
            spec,
            duty_accounts,
            [roster.territories[peer] for peer in duty_team],
            _held(coverage, duty_team, duty.start, duty.end, set(duty_accounts)),
            seed,
            moves,
            f"cannot re-cover the accounts {absent} holds for {duty.describe()}",
        )
        coverage = coverage.reassign(
            shared.new_owner,
            duty.start,
            duty.end,
            owner=absent,
            only_reason=duty.covering_reason(),
        )
        recovered.append(Recovered(duty, len(duty_accounts), shared.shares))
        findings.extend(shared.findings)

    shared = share_out(
        table,
        spec,
        scope,
        [roster.territories[peer] for peer in peers],
        _held(coverage, peers, absence.start, absence.end, set(scope)),
        seed,
        moves,
        f"cannot cover {absence.describe()}",
    )
    coverage = coverage.reassign(
        shared.new_owner,
        absence.start,
        absence.end,
        owner=absent,
        reason=absence.covering_reason(),
    )
    if absence.return_to is not None:
        later = coverage.accounts_of(absent, absence.end, OPEN_END)
        coverage = coverage.reassign(
            dict.fromkeys(later, absence.return_to),
            absence.end,
            OPEN_END,
            owner=absent,
            reason=handover_reason(absent),
        )
    findings.extend(shared.findings)
    return CoverResult(coverage, absence, peers, shared.shares, recovered, findings)


def _accounts_by_id(accounts: pd.DataFrame, spec: PlanSpec, coverage: Coverage) -> pd.DataFrame:
    """Rename the accounts table's columns to the spec's names and index it by account id."""
    frame = accounts.rename(columns={v: k for k, v in spec.columns.items()})
    frame = frame.reset_index(drop=True)
    ids = account_ids(frame, spec.id_column)
    frame = frame.drop(columns=[spec.id_column])
    frame.index = pd.Index(ids)
    missing = [account for account in coverage.timelines if account not in frame.index]
    if missing:
        raise InputError(
            f"{len(missing)} accounts of the plan are not in the accounts table, such as "
            f"{missing[:5]}; use the accounts file the plan was made from"
        )
    return frame


def _own_accounts(coverage: Coverage, territory: str, start: date, end: date) -> list[str]:
    """Accounts `territory` owns on a day of [start, end) other than by covering an absence."""
    return [
        account
        for account, spans in coverage.timelines.items()
        if any(
            span.territory == territory
            and span.overlaps(start, end)
            and absence_of(span.reason) is None
            for span in spans
        )
    ]


def _covering_duties(coverage: Coverage, absence: Absence) -> list[tuple[Absence, list[str]]]:
    """Other absences whose accounts the absent territory holds and that overlap its absence."""
    duties: dict[Absence, list[str]] = {}
    for account, spans in coverage.timelines.items():
        for span in spans:
            if span.territory != absence.territory:
                continue
            duty = absence_of(span.reason)
            if duty is not None and duty.overlaps(absence.start, absence.absent_until):
                accounts = duties.setdefault(duty, [])
                if not accounts or accounts[-1] != account:
                    accounts.append(account)
    return sorted(duties.items(), key=lambda item: (item[0].start, item[0].territory))


def _teammates(
    roster: Roster,
    territory: str,
    start: date,
    end: date,
    schedule: Sequence[Absence],
    teams: Mapping[str, str] | None,
    context: str,
) -> list[str]:
    peers = roster.teammates(territory, start, end, schedule, teams)
    if peers:
        return peers
    absent = sorted({a.territory for a in schedule if a.overlaps(start, end)} - {territory})
    later = sorted(tid for tid, first in roster.starts.items() if first > start)
    details = []
    if teams is not None:
        same = [
            tid for tid in roster.ids if tid != territory and teams.get(tid) == teams[territory]
        ]
        details.append(f"its team {teams[territory]!r} has {len(same)} other territories")
    if absent:
        details.append(f"absent on some day of the window: {', '.join(absent)}")
    if later:
        details.append(f"not started by {start}: {', '.join(later)}")
    reason = "; ".join(details) or "the plan has no other territory"
    what = context or f"{territory} from {start} to {end}"
    raise InputError(
        f"no teammate can cover {what}: {reason}. Shorten or move the window, or widen the "
        "team (leave --team out)"
    )


def _held(
    coverage: Coverage, peers: Sequence[str], start: date, end: date, exclude: set[str]
) -> dict[str, str]:
    """Map each account the peers own in [start, end) to the peer that owns it on most days."""
    order = {peer: index for index, peer in enumerate(peers)}
    held = {}
    for account, spans in coverage.timelines.items():
        if account in exclude:
            continue
        days: dict[str, int] = {}
        for span in spans:
            if span.territory in order:
                overlap = span.days_within(start, end)
                if overlap:
                    days[span.territory] = days.get(span.territory, 0) + overlap
        if days:
            held[account] = max(days, key=lambda peer: (days[peer], -order[peer]))
    return held
