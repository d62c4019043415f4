"""The plan spec: territories, criteria in priority order, constraints and search settings.

A spec is loaded from a TOML file (`load_spec`) or a plain dict (`spec_from_dict`), or built
directly from the dataclasses below. Loading validates every field and raises `SpecError`
with a message that names the field and the fix.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from smartplan.errors import FilterError, SpecError
from smartplan.filters import Filter

Mode = Literal["soft", "hard"]
Unmatched = Literal["distribute", "unassigned"]


@dataclass(frozen=True)
class Territory:
    """One territory: a book of accounts owned by one rep or one open hire.

    `capacity` scales the territory's targets (0.5 for a ramping hire gets half the share
    of a territory with capacity 1). `tier` names the group used by `weight` shares.
    """

    id: str
    name: str = ""
    tier: str | None = None
    capacity: float = 1.0
    max_accounts: int | None = None
    min_accounts: int | None = None


@dataclass(frozen=True)
class Balance:
    """Even split of a metric's sum (or of the account count when `metric` is None)."""

    metric: str | None = None
    where: Filter | None = None
    tolerance: float = 0.0
    weight: float | None = None
    name: str | None = None
    kind: Literal["balance"] = "balance"


@dataclass(frozen=True)
class Weight:
    """Unequal targets: each territory tier (or territory) gets a given share of the total.

    `shares` maps a territory tier, or a territory id, to its share; shares sum to 1.
    Within a tier the share is split by territory capacity.
    """

    shares: Mapping[str, float]
    metric: str | None = None
    where: Filter | None = None
    tolerance: float = 0.0
    weight: float | None = None
    name: str | None = None
    kind: Literal["weight"] = "weight"


@dataclass(frozen=True)
class Keep:
    """Minimize disruption: keep accounts with the owner in column `owner`.

    A soft keep costs the moved share of the scoped accounts (by count, or by `metric`);
    a hard keep pins every scoped account that has a home territory.
    """

    owner: str
    where: Filter | None = None
    mode: Mode = "soft"
    metric: str | None = None
    weight: float | None = None
    name: str | None = None
    kind: Literal["keep"] = "keep"


@dataclass(frozen=True)
class Group:
    """Keep accounts that share a value of `field` in one territory.

    Hard groups move as one unit. A soft group costs each extra territory that a value is
    split over, normalised by the largest possible number of such splits.
    """

    field: str
    mode: Mode = "hard"
    where: Filter | None = None
    weight: float | None = None
    name: str | None = None
    kind: Literal["group"] = "group"


@dataclass(frozen=True)
class Limit:
    """At most `max` and at least `min` accounts per territory, counting those matching `where`.

    `territories` restricts the limit to the listed territory ids (all when None). Limits
    are hard constraints and are never traded against a cost criterion.
    """

    max: int | None = None
    min: int | None = None
    where: Filter | None = None
    territories: tuple[str, ...] | None = None
    name: str | None = None
    kind: Literal["limit"] = "limit"


Criterion = Balance | Weight | Keep | Group | Limit
CRITERION_KINDS: dict[str, type] = {
    "balance": Balance,
    "weight": Weight,
    "keep": Keep,
    "group": Group,
    "limit": Limit,
}


@dataclass(frozen=True)
class Search:
    """Settings of the simulated annealing search.

    `moves` is the number of moves each chain evaluates (None picks a budget from the
    problem size); `time_limit` in seconds stops the search earlier. A run stopped by the
    time limit may differ between machines; a run stopped by the move budget does not.
    """

    chains: int = 2
    moves: int | None = None
    time_limit: float | None = None
    weight_ratio: float = 1000.0


@dataclass(frozen=True)
class PlanSpec:
    """A complete plan spec. Criteria are listed in priority order (priority 1 first).

    `owner` names the column of current owners, which gives each account its home
    territory; without it, the first `keep` criterion's owner column is used. `overlay`
    lists extra columns whose overlay ratio (mean distinct values per territory) the
    scorecard reports, besides the group fields.
    """

    territories: tuple[Territory, ...]
    criteria: tuple[Criterion, ...] = ()
    id_column: str = "account_id"
    scope: Filter | None = None
    max_accounts: int | None = None
    min_accounts: int | None = None
    owner: str | None = None
    pin: str | None = None
    pins_in_balance: bool = True
    parent: str | None = None
    children_count: bool = True
    unmatched: Unmatched = "distribute"
    columns: Mapping[str, str] = field(default_factory=dict)
    overlay: tuple[str, ...] = ()
    seed: int = 0
    search: Search = field(default_factory=Search)

    @property
    def territory_ids(self) -> list[str]:
        return [territory.id for territory in self.territories]

    @property
    def owner_column(self) -> str | None:
        if self.owner is not None:
            return self.owner
        for criterion in self.criteria:
            if isinstance(criterion, Keep):
                return criterion.owner
        return None

    def with_territory_count(self, count: int) -> PlanSpec:
        """Return a copy with `count` identical territories named T01, T02, ..."""
        return replace(self, territories=numbered_territories(count))


# Largest plan.territories count accepted; each territory gets per-criterion arrays.
MAX_TERRITORIES = 100_000
# Integers in a spec become int64 in the engine.
_INT64_MAX = 2**63 - 1


def _finite_number(value: Any) -> bool:
    """True for an int or float (not a bool) that converts to a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def numbered_territories(count: int) -> tuple[Territory, ...]:
    """Return `count` territories with capacity 1 and ids T01, T02, ... (T001 above 99)."""
    width = max(2, len(str(count)))
    return tuple(Territory(id=f"T{index:0{width}d}") for index in range(1, count + 1))


def load_spec(path: str | Path) -> PlanSpec:
    """Load and validate a TOML spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise SpecError(
            f"spec {path} is not valid UTF-8 (byte offset {error.start}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise SpecError(f"cannot read spec {path}: {error.strerror or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"invalid TOML in spec {path}: {error}") from None
    return spec_from_dict(data, source=str(path))


def spec_from_dict(data: Mapping[str, Any], source: str = "spec") -> PlanSpec:
    """Build a validated `PlanSpec` from the TOML layout given as nested dicts."""
    reader = _Reader(source)
    reader.check_keys(data, {"plan", "accounts", "territories", "criteria", "search"}, "")
    plan = reader.table(data, "plan")
    accounts = reader.table(data, "accounts")
    reader.check_keys(
        plan, {"territories", "max_accounts", "min_accounts", "seed", "unmatched"}, "plan"
    )
    reader.check_keys(
        accounts,
        {
            "id",
            "scope",
            "owner",
            "pin",
            "pins_in_balance",
            "parent",
            "children_count",
            "columns",
            "overlay",
        },
        "accounts",
    )

    territories = _read_territories(reader, plan.get("territories"), data.get("territories"))
    criteria = tuple(
        _read_criterion(reader, item, index + 1)
        for index, item in enumerate(reader.array(data, "criteria"))
    )
    search_table = reader.table(data, "search")
    reader.check_keys(search_table, {"chains", "moves", "time_limit", "weight_ratio"}, "search")
    search = Search(
        chains=reader.integer(search_table, "chains", "search", default=2, minimum=1),
        moves=reader.optional_integer(search_table, "moves", "search", minimum=1),
        time_limit=reader.optional_number(search_table, "time_limit", "search", positive=True),
        weight_ratio=reader.number(search_table, "weight_ratio", "search", default=1000.0),
    )
    if search.weight_ratio <= 1:
        raise SpecError(
            f"{source}: search.weight_ratio = {search.weight_ratio} must be greater than 1 "
            "so that a higher priority outweighs a lower one"
        )

    columns = reader.table(accounts, "columns", "accounts")
    for name, header in columns.items():
        if not isinstance(header, str):
            raise SpecError(
                f"{source}: accounts.columns.{name} must be a string naming a column header, "
                f"got {header!r}"
            )
    overlay = accounts.get("overlay", [])
    if not isinstance(overlay, list) or not all(isinstance(name, str) for name in overlay):
        raise SpecError(
            f"{source}: accounts.overlay must be a list of column names, got {overlay!r}"
        )
    unmatched = plan.get("unmatched", "distribute")
    if unmatched not in ("distribute", "unassigned"):
        raise SpecError(
            f"{source}: plan.unmatched = {unmatched!r} is invalid; use 'distribute' "
            "(spread accounts that match no criterion evenly) or 'unassigned' (list them)"
        )
    spec = PlanSpec(
        territories=territories,
        criteria=criteria,
        id_column=reader.string(accounts, "id", "accounts", default="account_id"),
        scope=reader.filter(accounts, "scope", "accounts"),
        max_accounts=reader.optional_integer(plan, "max_accounts", "plan", minimum=0),
        min_accounts=reader.optional_integer(plan, "min_accounts", "plan", minimum=0),
        owner=reader.optional_string(accounts, "owner", "accounts"),
        pin=reader.optional_string(accounts, "pin", "accounts"),
        pins_in_balance=reader.boolean(accounts, "pins_in_balance", "accounts", default=True),
        parent=reader.optional_string(accounts, "parent", "accounts"),
        children_count=reader.boolean(accounts, "children_count", "accounts", default=True),
        unmatched=unmatched,
        columns=dict(columns),
        overlay=tuple(overlay),
        seed=reader.integer(plan, "seed", "plan", default=0, minimum=0),
        search=search,
    )
    validate_spec(spec, source)
    return spec


def validate_spec(spec: PlanSpec, source: str = "spec") -> None:
    """Check the cross-field rules of a spec built in Python or loaded from TOML."""
    if not spec.territories:
        raise SpecError(f"{source}: the plan has no territories; set plan.territories")
    ids = spec.territory_ids
    duplicates = sorted({tid for tid in ids if ids.count(tid) > 1})
    if duplicates:
        raise SpecError(f"{source}: duplicate territory ids {duplicates}; give each a unique id")
    for territory in spec.territories:
        if not territory.capacity > 0:
            raise SpecError(
                f"{source}: territory {territory.id!r} has capacity {territory.capacity}; "
                "capacity must be positive (1 for a full book, 0.5 for a ramping hire)"
            )
    tiers = {territory.tier for territory in spec.territories if territory.tier is not None}
    for priority, criterion in enumerate(spec.criteria, start=1):
        where = f"{source}: criteria[{priority}] ({criterion.kind})"
        if isinstance(criterion, Balance | Weight) and criterion.tolerance < 0:
            raise SpecError(f"{where}: tolerance {criterion.tolerance} must be 0 or more")
        if isinstance(criterion, Weight):
            _validate_shares(criterion, ids, tiers, where)
        if isinstance(criterion, Limit):
            if criterion.max is None and criterion.min is None:
                raise SpecError(f"{where}: a limit needs max, min or both")
            if (
                criterion.max is not None
                and criterion.min is not None
                and criterion.min > criterion.max
            ):
                raise SpecError(
                    f"{where}: min = {criterion.min} is above max = {criterion.max}; "
                    "lower min or raise max"
                )
            for tid in criterion.territories or ():
                if tid not in ids:
                    raise SpecError(
                        f"{where}: territory {tid!r} is not in the plan; known ids: "
                        f"{_short_list(ids)}"
                    )
        weight = getattr(criterion, "weight", None)
        if weight is not None and not weight > 0:
            raise SpecError(f"{where}: weight must be positive")


def _validate_shares(criterion: Weight, ids: list[str], tiers: set[str], where: str) -> None:
    if not criterion.shares:
        raise SpecError(f"{where}: shares is empty; give a share per territory tier or id")
    keys = set(criterion.shares)
    by_tier = keys <= tiers
    by_territory = keys <= set(ids)
    if not (by_tier or by_territory) and tiers and not keys & set(ids):
        missing = sorted(keys - tiers)
        raise SpecError(
            f"{where}: share tiers {missing} have no territory; give a territory "
            f"tier = {missing[0]!r} in the territories table, or remove that share"
        )
    if not (by_tier or by_territory):
        unknown = sorted(keys - tiers - set(ids))
        raise SpecError(
            f"{where}: share keys {unknown} are neither territory tiers {sorted(tiers)} "
            f"nor territory ids {_short_list(ids)}; name tiers in the territories table"
        )
    for key, share in criterion.shares.items():
        if not _finite_number(share) or share < 0:
            raise SpecError(f"{where}: share {key!r} = {share!r} must be a number >= 0")
    total = sum(criterion.shares.values())
    if abs(total - 1.0) > 1e-6:
        raise SpecError(f"{where}: shares sum to {total:.6g}, not 1; scale them so they sum to 1")
    if by_tier and not by_territory:
        for tier in keys:
            if criterion.shares[tier] > 0 and tier not in tiers:
                raise SpecError(f"{where}: tier {tier!r} has no territory")


def _read_territories(reader: _Reader, count: Any, table: Any) -> tuple[Territory, ...]:
    if table is not None:
        if count is not None:
            raise SpecError(
                f"{reader.source}: give either plan.territories (a count) or a "
                "[[territories]] table, not both"
            )
        if not isinstance(table, list) or not table:
            raise SpecError(f"{reader.source}: [[territories]] must be a non-empty array of tables")
        territories = []
        for index, row in enumerate(table, start=1):
            label = f"territories[{index}]"
            if not isinstance(row, dict):
                raise SpecError(f"{reader.source}: {label} must be a table")
            reader.check_keys(
                row, {"id", "name", "tier", "capacity", "max_accounts", "min_accounts"}, label
            )
            if "id" not in row:
                raise SpecError(f'{reader.source}: {label} has no id; add id = "..."')
            territory_id = row["id"]
            if isinstance(territory_id, bool) or not isinstance(territory_id, str | int):
                raise SpecError(
                    f"{reader.source}: {label}.id must be a string or an integer, got "
                    f"{territory_id!r}"
                )
            if not str(territory_id).strip():
                raise SpecError(f"{reader.source}: {label}.id is empty; give the territory an id")
            territories.append(
                Territory(
                    id=str(row["id"]),
                    name=reader.string(row, "name", label, default=str(row["id"])),
                    tier=reader.optional_string(row, "tier", label),
                    capacity=reader.number(row, "capacity", label, default=1.0),
                    max_accounts=reader.optional_integer(row, "max_accounts", label, minimum=0),
                    min_accounts=reader.optional_integer(row, "min_accounts", label, minimum=0),
                )
            )
        return tuple(territories)
    if count is None:
        raise SpecError(
            f"{reader.source}: missing plan.territories; set it to a count such as 10 or "
            "add a [[territories]] table"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError(f"{reader.source}: plan.territories = {count!r} must be a positive integer")
    if count > MAX_TERRITORIES:
        raise SpecError(
            f"{reader.source}: plan.territories = {count} is more than {MAX_TERRITORIES:,}; "
            "use a smaller count"
        )
    return numbered_territories(count)


_CRITERION_KEYS: dict[str, set[str]] = {
    "balance": {"metric", "where", "tolerance", "weight", "name"},
    "weight": {"metric", "where", "tolerance", "weight", "name", "shares"},
    "keep": {"owner", "where", "mode", "metric", "weight", "name"},
    "group": {"field", "mode", "where", "weight", "name"},
    "limit": {"max", "min", "where", "territories", "name"},
}


def _read_criterion(reader: _Reader, item: Any, priority: int) -> Criterion:
    label = f"criteria[{priority}]"
    if not isinstance(item, dict):
        raise SpecError(f"{reader.source}: {label} must be a table")
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in _CRITERION_KEYS:
        hint = difflib.get_close_matches(str(kind), list(_CRITERION_KEYS), n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(
            f"{reader.source}: {label}.kind = {kind!r} is not a criterion kind{suggestion}; "
            f"use one of {sorted(_CRITERION_KEYS)}"
        )
    label = f"{label} ({kind})"
    reader.check_keys(item, _CRITERION_KEYS[kind] | {"kind"}, label)
    where = reader.filter(item, "where", label)
    name = reader.optional_string(item, "name", label)
    weight = reader.optional_number(item, "weight", label, positive=True)
    if kind == "balance":
        return Balance(
            metric=reader.optional_string(item, "metric", label),
            where=where,
            tolerance=reader.number(item, "tolerance", label, default=0.0),
            weight=weight,
            name=name,
        )
    if kind == "weight":
        shares = item.get("shares")
        if not isinstance(shares, dict):
            raise SpecError(
                f"{reader.source}: {label}.shares must be a table such as "
                "{ senior = 0.75, junior = 0.25 }"
            )
        return Weight(
            shares={str(key): value for key, value in shares.items()},
            metric=reader.optional_string(item, "metric", label),
            where=where,
            tolerance=reader.number(item, "tolerance", label, default=0.0),
            weight=weight,
            name=name,
        )
    if kind == "keep":
        owner = reader.optional_string(item, "owner", label)
        if owner is None:
            raise SpecError(
                f'{reader.source}: {label} needs owner = "COLUMN", the column holding '
                "each account's current territory"
            )
        return Keep(
            owner=owner,
            where=where,
            mode=reader.mode(item, label),
            metric=reader.optional_string(item, "metric", label),
            weight=weight,
            name=name,
        )
    if kind == "group":
        group_field = reader.optional_string(item, "field", label)
        if group_field is None:
            raise SpecError(
                f'{reader.source}: {label} needs field = "COLUMN", the column whose '
                "values keep accounts together"
            )
        return Group(
            field=group_field,
            mode=reader.mode(item, label),
            where=where,
            weight=weight,
            name=name,
        )
    territories = item.get("territories")
    if territories is not None and (
        not isinstance(territories, list) or not all(isinstance(t, str) for t in territories)
    ):
        raise SpecError(f"{reader.source}: {label}.territories must be a list of territory ids")
    return Limit(
        max=reader.optional_integer(item, "max", label, minimum=0),
        min=reader.optional_integer(item, "min", label, minimum=0),
        where=where,
        territories=tuple(territories) if territories is not None else None,
        name=name,
    )


def _short_list(values: list[str], limit: int = 8) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


class _Reader:
    """Typed access to spec tables that raises `SpecError` naming the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, label: str, key: str, message: str) -> SpecError:
        name = f"{label}.{key}" if label else key
        return SpecError(f"{self.source}: {name} {message}")

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], label: str) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                where = f"in [{label}]" if label else "at the top level"
                raise SpecError(
                    f"{self.source}: unknown key {key!r} {where}{suggestion} "
                    f"Known keys: {', '.join(sorted(allowed))}"
                )

    def table(self, data: Mapping[str, Any], key: str, label: str = "") -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(label, key, f"must be a table, got {value!r}")
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail("", key, "must be an array of tables ([[criteria]])")
        return value

    def string(self, data: Mapping[str, Any], key: str, label: str, default: str) -> str:
        value = self.optional_string(data, key, label)
        return default if value is None else value

    def optional_string(self, data: Mapping[str, Any], key: str, label: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(label, key, f"must be a non-empty string, got {value!r}")
        return value

    def boolean(self, data: Mapping[str, Any], key: str, label: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(label, key, f"must be true or false, got {value!r}")
        return value

    def mode(self, data: Mapping[str, Any], label: str) -> Mode:
        value = data.get("mode", "soft" if "keep" in label else "hard")
        if value not in ("soft", "hard"):
            raise self.fail(label, "mode", f"= {value!r} is invalid; use 'soft' or 'hard'")
        return value

    def optional_integer(
        self, data: Mapping[str, Any], key: str, label: str, minimum: int | None = None
    ) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(label, key, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(label, key, f"= {value} must be at least {minimum}")
        if value > _INT64_MAX:
            raise self.fail(label, key, f"= {value} must be at most {_INT64_MAX}")
        return value

    def integer(
        self, data: Mapping[str, Any], key: str, label: str, default: int, minimum: int
    ) -> int:
        value = self.optional_integer(data, key, label, minimum)
        return default if value is None else value

    def optional_number(
        self, data: Mapping[str, Any], key: str, label: str, positive: bool = False
    ) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(label, key, f"must be a number, got {value!r}")
        if not _finite_number(value):
            raise self.fail(label, key, f"= {value!r} must be a finite number")
        if positive and not value > 0:
            raise self.fail(label, key, f"= {value} must be positive")
        return float(value)

    def number(self, data: Mapping[str, Any], key: str, label: str, default: float) -> float:
        value = self.optional_number(data, key, label)
        return default if value is None else value

    def filter(self, data: Mapping[str, Any], key: str, label: str) -> Filter | None:
        text = self.optional_string(data, key, label)
        if text is None:
            return None
        try:
            return Filter.parse(text)
        except FilterError as error:
            name = f"{label}.{key}" if label else key
            raise FilterError(f"{self.source}: {name}: {error}") from None
