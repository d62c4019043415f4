"""Effective-dated ownership: the rows of a coverage file and the days they cover.

A coverage holds, for every account, a sorted list of `Span` rows that tile the whole
calendar: the first row starts at the open start, each row ends on the day the next one
starts, and the last row runs to the open end. Rows are half-open, [valid_from, valid_to),
so the owner on any day is the territory of the one row that contains it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import pandas as pd

from smartplan.columns import describe_rows, require_column, text_values
from smartplan.coverage.absence import (
    OPEN_END,
    OPEN_START,
    Absence,
    absence_of,
    format_day,
    parse_day,
)
from smartplan.errors import InputError

COVERAGE_COLUMNS = ["account_id", "territory", "valid_from", "valid_to", "reason"]
PLAN_REASON = "planned"


@dataclass(frozen=True)
class Span:
    """One row of a coverage: `territory` owns the account on the days [valid_from, valid_to).

    An empty territory ("") means the account has no territory, as in a plan's unmatched rows.
    """

    territory: str
    valid_from: date
    valid_to: date
    reason: str

    def overlaps(self, start: date, end: date) -> bool:
        return self.valid_from < end and start < self.valid_to

    def contains(self, day: date) -> bool:
        return self.valid_from <= day < self.valid_to

    def days_within(self, start: date, end: date) -> int:
        """Number of days this row shares with [start, end)."""
        return max(0, (min(self.valid_to, end) - max(self.valid_from, start)).days)


@dataclass(frozen=True)
class Coverage:
    """A covered plan: the rows of every account, sorted by valid_from, in plan order."""

    timelines: Mapping[str, tuple[Span, ...]]

    @classmethod
    def from_plan(cls, plan: pd.DataFrame, source: str = "plan") -> Coverage:
        """Build one open-ended row per account of a plan (account_id, territory[, reason])."""
        ids = _ids(plan, source)
        repeated = pd.Series(ids).duplicated(keep=False).to_numpy()
        if repeated.any():
            raise InputError(
                f"{source} repeats account ids in {describe_rows(repeated.nonzero()[0])}; "
                "a plan has one row per account"
            )
        territories = _territories(plan)
        reasons = _reasons(plan, PLAN_REASON)
        return cls(
            {
                account: (Span(territory, OPEN_START, OPEN_END, reason),)
                for account, territory, reason in zip(ids, territories, reasons, strict=True)
            }
        )

    @classmethod
    def from_table(cls, table: pd.DataFrame, source: str = "coverage") -> Coverage:
        """Read a coverage file, or a plan file when the table has no valid_from column."""
        if "valid_from" not in table.columns and "valid_to" not in table.columns:
            return cls.from_plan(table, source)
        ids = _ids(table, source)
        territories = _territories(table)
        reasons = _reasons(table, "")
        starts = _days(table, "valid_from", OPEN_START, source)
        ends = _days(table, "valid_to", OPEN_END, source)
        rows: dict[str, list[tuple[int, Span]]] = {}
        for row, account in enumerate(ids):
            span = Span(territories[row], starts[row], ends[row], reasons[row])
            if span.valid_from >= span.valid_to:
                raise InputError(
                    f"{source} row {row + 1}: valid_from {starts[row]} is not before valid_to "
                    f"{ends[row]}; a row covers the days [valid_from, valid_to)"
                )
            rows.setdefault(account, []).append((row, span))
        timelines = {}
        for account, entries in rows.items():
            entries.sort(key=lambda entry: entry[1].valid_from)
            _check_tiling(account, entries, source)
            timelines[account] = tuple(span for _, span in entries)
        coverage = cls(timelines)
        coverage.absences(source)
        return coverage

    def to_frame(self) -> pd.DataFrame:
        """Return the rows of the coverage file: COVERAGE_COLUMNS, open dates as None."""
        records = [
            (
                account,
                span.territory,
                format_day(span.valid_from),
                format_day(span.valid_to),
                span.reason,
            )
            for account, spans in self.timelines.items()
            for span in spans
        ]
        return pd.DataFrame.from_records(records, columns=COVERAGE_COLUMNS)

    def owners_on(self, day: date) -> pd.DataFrame:
        """Return the owner of every account on `day`: account_id, territory, reason."""
        records = []
        for account, spans in self.timelines.items():
            span = next(span for span in spans if span.contains(day))
            records.append((account, span.territory, span.reason))
        return pd.DataFrame.from_records(records, columns=["account_id", "territory", "reason"])

    def territories(self) -> list[str]:
        """Return the territories that own at least one row, in order of first appearance."""
        seen: dict[str, None] = {}
        for spans in self.timelines.values():
            for span in spans:
                if span.territory:
                    seen.setdefault(span.territory, None)
        return list(seen)

    def absences(self, source: str = "coverage") -> list[Absence]:
        """Return the absences recorded in covering rows, sorted by start date and territory."""
        found: dict[Absence, None] = {}
        for account, spans in self.timelines.items():
            for span in spans:
                absence = absence_of(span.reason)
                if absence is None:
                    continue
                if not (absence.start <= span.valid_from and span.valid_to <= absence.end):
                    raise InputError(
                        f"{source}: account {account!r} has a row "
                        f"[{span.valid_from}, {span.valid_to}) outside the window of its "
                        f"reason {span.reason!r}; covering rows lie inside their absence"
                    )
                found.setdefault(absence, None)
        ordered = sorted(found, key=lambda a: (a.start, a.territory, a.end, a.return_to or ""))
        for index, first in enumerate(ordered):
            for second in ordered[index + 1 :]:
                if first.territory == second.territory and first.overlaps(
                    second.start, second.absent_until
                ):
                    raise InputError(
                        f"{source} records overlapping absences of one territory: "
                        f"{first.describe()} and {second.describe()}"
                    )
        return ordered

    def accounts_of(self, territory: str, start: date, end: date) -> list[str]:
        """Return the accounts that `territory` owns on at least one day of [start, end)."""
        return [
            account
            for account, spans in self.timelines.items()
            if any(span.territory == territory and span.overlaps(start, end) for span in spans)
        ]

    def reassign(
        self,
        new_owner: Mapping[str, str],
        start: date,
        end: date,
        owner: str,
        reason: str | None = None,
        only_reason: str | None = None,
    ) -> Coverage:
        """Give the days [start, end) that `owner` holds of each account to `new_owner[account]`.

        Rows are split at `start` and `end`. `reason` replaces the reason of the moved days
        (kept when None); `only_reason` restricts the change to rows with that reason.
        """
        timelines = dict(self.timelines)
        for account, territory in new_owner.items():
            spans: list[Span] = []
            for span in timelines[account]:
                selected = span.territory == owner and (
                    only_reason is None or span.reason == only_reason
                )
                if not (selected and span.overlaps(start, end)):
                    spans.append(span)
                    continue
                inside_from = max(span.valid_from, start)
                inside_to = min(span.valid_to, end)
                if span.valid_from < inside_from:
                    spans.append(Span(span.territory, span.valid_from, inside_from, span.reason))
                spans.append(Span(territory, inside_from, inside_to, reason or span.reason))
                if inside_to < span.valid_to:
                    spans.append(Span(span.territory, inside_to, span.valid_to, span.reason))
            timelines[account] = _merged(spans)
        return Coverage(timelines)


def _merged(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Join neighbouring rows with the same territory and reason."""
    result: list[Span] = []
    for span in spans:
        last = result[-1] if result else None
        if last is not None and (last.territory, last.reason) == (span.territory, span.reason):
            result[-1] = Span(last.territory, last.valid_from, span.valid_to, last.reason)
        else:
            result.append(span)
    return tuple(result)


def _check_tiling(account: str, entries: list[tuple[int, Span]], source: str) -> None:
    """Reject rows of one account that leave a day without an owner or give it two."""
    first_row, first = entries[0]
    if first.valid_from != OPEN_START:
        raise InputError(
            f"{source}: account {account!r} has no owner before {first.valid_from} (its "
            f"earliest row, row {first_row + 1}, starts then); leave valid_from empty in the "
            "first row of every account"
        )
    for (row, span), (next_row, following) in pairwise(entries):
        if span.valid_to > following.valid_from:
            raise InputError(
                f"{source}: account {account!r} has two owners from {following.valid_from} "
                f"(rows {row + 1} and {next_row + 1} overlap); give each day one row"
            )
        if span.valid_to < following.valid_from:
            raise InputError(
                f"{source}: account {account!r} has no owner from {span.valid_to} to "
                f"{following.valid_from} (between rows {row + 1} and {next_row + 1}); "
                "close the gap"
            )
    last_row, last = entries[-1]
    if last.valid_to != OPEN_END:
        raise InputError(
            f"{source}: account {account!r} has no owner from {last.valid_to} on (row "
            f"{last_row + 1} is its last row); leave valid_to empty in the last row"
        )


def _ids(table: pd.DataFrame, source: str) -> list[str]:
    values = text_values(table, "account_id", f"{source} account id")
    empty = [row for row, value in enumerate(values) if value is None]
    if empty:
        raise InputError(
            f"{source} has empty account ids in {describe_rows(pd.Series(empty).to_numpy())}; "
            "give every row the id of its account"
        )
    return [str(value) for value in values]


def _territories(table: pd.DataFrame) -> list[str]:
    values = text_values(table, "territory", "territory")
    return ["" if value is None else str(value) for value in values]


def _reasons(table: pd.DataFrame, default: str) -> list[str]:
    if "reason" not in table.columns:
        return [default] * len(table)
    values = text_values(table, "reason", "reason")
    return [default if value is None else str(value) for value in values]


def _days(table: pd.DataFrame, column: str, open_day: date, source: str) -> list[date]:
    raw = require_column(table, column, f"{source} dates")
    return [
        _day_cell(value, open_day, f"{source} row {row + 1} {column}")
        for row, value in enumerate(raw)
    ]


def _day_cell(value: Any, open_day: date, what: str) -> date:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return open_day
    if isinstance(value, datetime | pd.Timestamp):
        if value != value.replace(hour=0, minute=0, second=0, microsecond=0):
            raise InputError(f"{what} {value} has a time of day; give a date, YYYY-MM-DD")
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return open_day if not text else parse_day(text, what)
