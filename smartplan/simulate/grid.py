"""The grid of a sweep: territory counts x seeds x spec variants, one `RunTask` per point."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smartplan.errors import InputError
from smartplan.spec import PlanSpec

_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+)\s*$")
_FORMS = "write a range such as 8..15, a list such as 8,10,12 or one number such as 12"


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep: a variant's spec planned with `territories` numbered territories."""

    run: int  # position in the grid; rows are sorted by it
    variant: str
    territories: int
    seed: int
    spec: PlanSpec  # the variant's spec before the territory count is applied
    moves: int | None = None  # per chain; None keeps the spec's budget
    time_limit: float | None = None  # seconds per run


def parse_territory_counts(value: str | int | Iterable[int]) -> tuple[int, ...]:
    """Parse territory counts given as `8..15`, `8,10,12`, `12`, an int or an iterable of ints.

    Returns the distinct counts in increasing order; raises `InputError` naming the value.
    """
    if isinstance(value, str):
        counts = _parse_text(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        counts = [value]
    elif isinstance(value, Iterable):
        counts = list(value)
        for count in counts:
            if isinstance(count, bool) or not isinstance(count, int):
                raise InputError(
                    f"invalid territory counts {counts!r}: {count!r} is not a whole number; "
                    f"{_FORMS}"
                )
    else:
        raise InputError(f"invalid territory counts {value!r}; {_FORMS}")
    if not counts:
        raise InputError(f"invalid territory counts {value!r}: no count given; {_FORMS}")
    small = [count for count in counts if count < 1]
    if small:
        raise InputError(
            f"invalid territory counts {value!r}: {small[0]} is below 1; a plan needs at "
            "least one territory"
        )
    return tuple(sorted(set(counts)))


def _parse_text(text: str) -> list[int]:
    match = _RANGE.match(text)
    if match:
        first, last = (_whole_number(part, text) for part in match.groups())
        if first > last:
            raise InputError(
                f"invalid territory counts {text!r}: the range ends below its start; "
                f"write {last}..{first}"
            )
        return list(range(first, last + 1))
    return [_whole_number(part, text) for part in text.split(",")]


def _whole_number(part: str, text: str) -> int:
    part = part.strip()
    if not re.fullmatch(r"[+-]?\d+", part):
        shown = repr(part) if part else "an empty item"
        raise InputError(
            f"invalid territory counts {text!r}: {shown} is not a whole number; {_FORMS}"
        )
    return int(part)


def seed_list(seeds: int | Iterable[int], first_seed: int) -> tuple[int, ...]:
    """Return the seeds of a sweep: `seeds` consecutive ones from `first_seed`, or those given."""
    if isinstance(seeds, bool):
        raise InputError(f"seeds = {seeds!r} must be a number of seeds or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise InputError(f"seeds = {seeds} must be at least 1")
        return tuple(range(first_seed, first_seed + seeds))
    given = list(seeds)
    if not given:
        raise InputError("the list of seeds is empty; give a count such as 5 or a list of seeds")
    for seed in given:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(f"seed {seed!r} must be a whole number of 0 or more")
    return tuple(dict.fromkeys(given))


def build_tasks(
    variants: Mapping[str, PlanSpec],
    counts: Iterable[int],
    seeds: Iterable[int],
    moves: int | None = None,
    time_limit: float | None = None,
) -> list[RunTask]:
    """Return one task per (variant, territory count, seed), variants in the given order."""
    counts = tuple(counts)
    seeds = tuple(seeds)
    tasks: list[RunTask] = []
    for name, spec in variants.items():
        for count in counts:
            for seed in seeds:
                tasks.append(
                    RunTask(
                        run=len(tasks),
                        variant=name,
                        territories=count,
                        seed=seed,
                        spec=spec,
                        moves=moves,
                        time_limit=time_limit,
                    )
                )
    return tasks
