"""Build the accounts and territories tables from the 2021 Fortune 1000 list.

Reads ``examples/data/fortune1000/Fortune_1000.csv`` (one row per company) and writes
``accounts.csv`` and ``territories.csv`` beside it. The derived columns (account_id, latitude,
longitude, tier, region, owner, propensity) follow the fixed rules below and in the README in
that folder. The output is deterministic, so a second run writes byte-identical files.

Coordinates come from the offline ``zipcodes`` package (``pip install smartplan[data]``).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "examples" / "data" / "fortune1000"
DEFAULT_INPUT = DATA_DIR / "Fortune_1000.csv"
DEFAULT_OUTPUT = DATA_DIR / "accounts.csv"
TERRITORIES_FILE_NAME = "territories.csv"

REQUIRED_COLUMNS = (
    "company",
    "rank",
    "revenue",
    "profit",
    "num. of employees",
    "sector",
    "city",
    "state",
    "newcomer",
    "profitable",
    "Market Cap",
)

OUTPUT_COLUMNS = (
    "account_id",
    "company",
    "rank",
    "revenue",
    "profit",
    "employees",
    "sector",
    "city",
    "state",
    "market_cap",
    "newcomer",
    "profitable",
    "latitude",
    "longitude",
    "tier",
    "region",
    "owner",
    "propensity",
)

# Tier by position in the revenue order (1 = largest): A for 1-100, B for 101-400, C after.
TIER_A_MAX_POSITION = 100
TIER_B_MAX_POSITION = 400

# Propensity is a weighted mean of two percentile ranks in [0, 1]. A company without the input
# for a component gets the neutral value 0.5 for that component.
MARGIN_WEIGHT = 0.5
VALUATION_WEIGHT = 0.5
NEUTRAL_PERCENTILE = 0.5

# Legacy geographic plan: 10 regions built from the US Census divisions. The changes below
# keep each mainland region contiguous and give 69 to 124 accounts per region on the 2021 list.
# - New England is R01 unchanged.
# - Middle Atlantic is split: NY and NJ form R02, and PA joins DE, MD, DC, VA and WV in R03.
# - The rest of South Atlantic (NC, SC, GA, FL) is R04. PR, which borders no state, joins it.
# - East North Central is split: OH, MI and IN take KY in R05, and IL and WI join MN, IA, ND
#   and SD in R06.
# - R07 contains MO, KS and NE, the rest of West South Central except TX (OK, AR, LA), and the
#   rest of East South Central (TN, AL, MS).
# - TX is a region of its own (R08), and CA is one with HI (R10).
# - The Mountain division takes WA, OR and AK (R09).
REGION_NAMES: dict[str, str] = {
    "R01": "New England",
    "R02": "New York Metro",
    "R03": "Mid-Atlantic",
    "R04": "Southeast",
    "R05": "Great Lakes East",
    "R06": "Upper Midwest",
    "R07": "South Central",
    "R08": "Texas",
    "R09": "Mountain and Northwest",
    "R10": "California and Hawaii",
}

REGION_STATES: dict[str, tuple[str, ...]] = {
    "R01": ("CT", "MA", "ME", "NH", "RI", "VT"),
    "R02": ("NJ", "NY"),
    "R03": ("DC", "DE", "MD", "PA", "VA", "WV"),
    "R04": ("FL", "GA", "NC", "PR", "SC"),
    "R05": ("IN", "KY", "MI", "OH"),
    "R06": ("IA", "IL", "MN", "ND", "SD", "WI"),
    "R07": ("AL", "AR", "KS", "LA", "MO", "MS", "NE", "OK", "TN"),
    "R08": ("TX",),
    "R09": ("AK", "AZ", "CO", "ID", "MT", "NM", "NV", "OR", "UT", "WA", "WY"),
    "R10": ("CA", "HI"),
}

# Tokens that USPS and the Fortune list spell differently, mapped to one spelling.
# Examples: "St. Louis" vs "Saint Louis", "Van Buren Township" vs "Van Buren Twp".
CITY_TOKEN_ALIASES = {
    "st": "saint",
    "ste": "sainte",
    "ft": "fort",
    "mt": "mount",
    "twp": "township",
}


class InputError(Exception):
    """Invalid or incomplete input table."""


@dataclass(frozen=True)
class GeocodeResult:
    latitude: float
    longitude: float
    matched_on: str  # "city" or "acceptable city"


def build_state_region() -> dict[str, str]:
    """Invert REGION_STATES into state -> region id, rejecting a state listed twice."""
    state_region: dict[str, str] = {}
    for region_id, states in REGION_STATES.items():
        for state in states:
            if state in state_region:
                raise ValueError(f"state {state} is in both {state_region[state]} and {region_id}")
            state_region[state] = region_id
    return state_region


def read_fortune(path: Path) -> pd.DataFrame:
    """Read the source CSV as strings, keeping empty cells as empty strings."""
    if not path.is_file():
        raise InputError(f"input file not found: {path}")

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: missing required column(s) {missing}. Found columns: {list(frame.columns)}"
        )
    if frame.empty:
        raise InputError(f"{path}: no data rows")

    return frame[list(REQUIRED_COLUMNS)].apply(lambda column: column.str.strip())


def parse_numbers(
    frame: pd.DataFrame, column: str, *, allow_empty: bool, empty_tokens: Iterable[str] = ("",)
) -> pd.Series:
    """Convert a string column to float, with NaN for the allowed empty tokens."""
    values = frame[column].where(~frame[column].isin(list(empty_tokens)), "")
    if not allow_empty and (values == "").any():
        companies = frame.loc[values == "", "company"].tolist()
        raise InputError(f"column {column!r} is empty for {companies}")

    numbers = pd.to_numeric(values.replace("", None), errors="coerce")
    invalid = numbers.isna() & (values != "")
    if invalid.any():
        examples = frame.loc[invalid, ["company", column]].head(5).values.tolist()
        raise InputError(f"column {column!r} has non-numeric values, e.g. {examples}")
    return numbers.astype(float)


def check_values(source: pd.DataFrame, column: str, invalid: pd.Series, rule: str) -> None:
    """Raise InputError naming up to 5 companies whose value in column breaks the rule."""
    if invalid.any():
        examples = source.loc[invalid, ["company", column]].head(5).values.tolist()
        raise InputError(
            f"column {column!r} {rule}, invalid in {int(invalid.sum())} rows: {examples}"
        )


def assign_account_ids(frame: pd.DataFrame) -> pd.Series:
    """Number companies 1..n in (rank, company) order and return ids like F0001.

    Fortune ranks are not unique: the 2021 list has three ties (ranks 322, 457 and 478), where
    two companies have the same revenue and the next rank is skipped. In each tie the company
    first by name gets the tied rank as its id and the other gets the skipped rank. Every
    untied company's id therefore equals its rank, as long as each tie skips the following
    ranks.
    """
    ranks = frame["rank"]
    if (ranks < 1).any():
        raise InputError(f"rank must be a positive integer, found {sorted(ranks[ranks < 1])}")
    if frame["company"].duplicated().any():
        duplicates = sorted(frame.loc[frame["company"].duplicated(), "company"])
        raise InputError(f"company names must be unique, found duplicates {duplicates}")

    # A rank tie is only valid when the tied companies report the same revenue.
    tied = frame[ranks.duplicated(keep=False)]
    for rank, group in tied.groupby("rank"):
        if group["revenue"].nunique() != 1:
            raise InputError(
                f"rank {rank} is shared by companies with different revenue: "
                f"{group[['company', 'revenue']].values.tolist()}"
            )

    order = frame.sort_values(["rank", "company"], kind="mergesort").index
    positions = pd.Series(range(1, len(frame) + 1), index=order)
    if positions.max() > 9999:
        raise InputError(f"{len(frame)} rows do not fit 4-digit account ids")

    ids = positions.reindex(frame.index).map(lambda position: f"F{position:04d}")
    if not tied.empty:
        print(f"Tied ranks (ids assigned in company-name order): {len(tied)} companies")
        listing = tied.assign(account_id=ids).sort_values(["rank", "company"])
        for row in listing.itertuples(index=False):
            print(f"  rank {row.rank}: {row.account_id} {row.company}")
    return ids


def normalize_city(name: str) -> str:
    """Normalize a city name to a matching key: lower case, aliases applied, no punctuation.

    Removing spaces makes "McLean" match the USPS spelling "Mc Lean".
    """
    tokens = re.split(r"[^0-9a-z]+", name.casefold())
    return "".join(CITY_TOKEN_ALIASES.get(token, token) for token in tokens if token)


class ZipGeocoder:
    """Map (city, state) to coordinates from the ZIP codes of the ``zipcodes`` package.

    A city matches ZIP codes whose USPS city name has the same key (see normalize_city). When no
    ZIP code has it as its main city, the ZIP codes that list it as an acceptable city name
    are used, which covers places like Bloomington, MN, whose mail goes to Minneapolis. Among
    the matches, active STANDARD (delivery area) ZIP codes are used when there are any, else
    all matches. The coordinates are the mean over those ZIP codes, in ZIP-code order.
    """

    def __init__(self) -> None:
        try:
            import zipcodes
        except ImportError as error:
            raise SystemExit(
                "the zipcodes package is required: pip install 'smartplan[data]'"
            ) from error

        self._main: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._acceptable: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for record in sorted(zipcodes.list_all(), key=lambda item: item["zip_code"]):
            if not record["lat"] or not record["long"]:
                continue
            state = record["state"]
            self._main[(state, normalize_city(record["city"]))].append(record)
            for alternative in record["acceptable_cities"]:
                self._acceptable[(state, normalize_city(alternative))].append(record)

    def locate(self, city: str, state: str) -> GeocodeResult | None:
        """Return the coordinates of a city, or None when no ZIP code matches it."""
        key = (state, normalize_city(city))
        for matched_on, index in (("city", self._main), ("acceptable city", self._acceptable)):
            records = index.get(key)
            if records:
                return self._mean_position(records, matched_on)
        return None

    @staticmethod
    def _mean_position(records: list[dict[str, Any]], matched_on: str) -> GeocodeResult:
        standard = [
            record
            for record in records
            if record["zip_code_type"] == "STANDARD" and record["active"]
        ]
        chosen = standard or records
        latitude = math.fsum(float(record["lat"]) for record in chosen) / len(chosen)
        longitude = math.fsum(float(record["long"]) for record in chosen) / len(chosen)
        return GeocodeResult(latitude, longitude, matched_on)


def add_coordinates(frame: pd.DataFrame) -> None:
    """Add latitude and longitude columns, printing the coverage and every miss."""
    geocoder = ZipGeocoder()
    locations: dict[tuple[str, str], GeocodeResult | None] = {}
    for city, state in sorted(set(zip(frame["city"], frame["state"], strict=True))):
        locations[(city, state)] = geocoder.locate(city, state)

    keys = list(zip(frame["city"], frame["state"], strict=True))
    frame["latitude"] = [
        location.latitude if (location := locations[key]) else math.nan for key in keys
    ]
    frame["longitude"] = [
        location.longitude if (location := locations[key]) else math.nan for key in keys
    ]

    located = frame["latitude"].notna()
    acceptable_count = sum(
        1
        for location in locations.values()
        if location and location.matched_on == "acceptable city"
    )
    print(
        f"Coordinates: {int(located.sum())} of {len(frame)} rows "
        f"({len(locations)} distinct cities, {acceptable_count} matched on an acceptable "
        "USPS city name)"
    )
    misses = frame.loc[~located, ["company", "city", "state"]]
    for row in misses.itertuples(index=False):
        print(f"  no coordinates: {row.company} ({row.city}, {row.state})")


def add_regions(frame: pd.DataFrame) -> None:
    """Add the region and owner columns from the fixed state -> region table."""
    state_region = build_state_region()
    unknown = sorted(set(frame["state"]) - set(state_region))
    if unknown:
        raise InputError(
            f"states not in the region table: {unknown}. Add them to REGION_STATES in this script."
        )
    frame["region"] = frame["state"].map(state_region)
    # The legacy plan has one owner per region, named by the region id.
    frame["owner"] = frame["region"]


def add_tiers(frame: pd.DataFrame) -> None:
    """Add the tier column from each company's position in the revenue order.

    Equal revenues are ordered by rank, then company name.
    """
    order = frame.sort_values(
        ["revenue", "rank", "company"], ascending=[False, True, True], kind="mergesort"
    ).index
    positions = pd.Series(range(1, len(frame) + 1), index=order).reindex(frame.index)
    frame["tier"] = "C"
    frame.loc[positions <= TIER_B_MAX_POSITION, "tier"] = "B"
    frame.loc[positions <= TIER_A_MAX_POSITION, "tier"] = "A"


def percentile_rank(values: pd.Series) -> pd.Series:
    """Scale ranks to [0, 1] (lowest 0, highest 1, ties averaged), keeping NaN."""
    count = int(values.notna().sum())
    if count <= 1:
        return values.where(values.isna(), NEUTRAL_PERCENTILE)
    return (values.rank(method="average") - 1) / (count - 1)


def add_propensity(frame: pd.DataFrame) -> None:
    """Add the derived propensity score in [0, 1].

    propensity = 0.5 * percentile(profit / revenue) + 0.5 * percentile(market_cap / revenue),
    where percentile ranks a value among the companies that have it (see percentile_rank).
    A missing profit or market cap gives 0.5 for that component.
    """
    margin = frame["profit"] / frame["revenue"]
    valuation = frame["market_cap"] / frame["revenue"]
    score = MARGIN_WEIGHT * percentile_rank(margin).fillna(NEUTRAL_PERCENTILE)
    score += VALUATION_WEIGHT * percentile_rank(valuation).fillna(NEUTRAL_PERCENTILE)
    frame["propensity"] = score.clip(0.0, 1.0)


def build_accounts(source: pd.DataFrame) -> pd.DataFrame:
    """Return the accounts table, one row per company, sorted by account id."""
    frame = pd.DataFrame(index=source.index)
    frame["company"] = source["company"]
    ranks = parse_numbers(source, "rank", allow_empty=False)
    check_values(source, "rank", ranks % 1 != 0, "must be a whole number")
    frame["rank"] = ranks.astype(int)

    revenue = parse_numbers(source, "revenue", allow_empty=False)
    check_values(source, "revenue", revenue <= 0, "must be positive")
    frame["revenue"] = revenue

    frame["profit"] = parse_numbers(source, "profit", allow_empty=True)

    employees = parse_numbers(source, "num. of employees", allow_empty=False)
    invalid_employees = (employees % 1 != 0) | (employees < 0)
    check_values(source, "num. of employees", invalid_employees, "must be a whole number >= 0")
    frame["employees"] = employees.astype(int)

    for column in ("sector", "city", "state", "newcomer", "profitable"):
        frame[column] = source[column]
    # The source marks a missing market cap with an empty cell or "-".
    frame["market_cap"] = parse_numbers(
        source, "Market Cap", allow_empty=True, empty_tokens=("", "-")
    )

    frame["account_id"] = assign_account_ids(frame)
    add_coordinates(frame)
    add_tiers(frame)
    add_regions(frame)
    add_propensity(frame)

    frame = frame.sort_values("account_id", kind="mergesort").reset_index(drop=True)
    return frame[list(OUTPUT_COLUMNS)]


def format_float(value: float, decimals: int) -> str:
    """Format with fixed decimals, returning "" for NaN and never "-0.0"."""
    if math.isnan(value):
        return ""
    text = f"{value:.{decimals}f}"
    return text[1:] if re.fullmatch(r"-0\.0*", text) else text


# Decimals per float column: money keeps the source precision (0.1 USD million).
FLOAT_DECIMALS = {
    "revenue": 1,
    "profit": 1,
    "market_cap": 1,
    "latitude": 6,
    "longitude": 6,
    "propensity": 6,
}


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_accounts(accounts: pd.DataFrame, path: Path) -> None:
    formatted = accounts.astype(object)
    for column, decimals in FLOAT_DECIMALS.items():
        formatted[column] = [format_float(value, decimals) for value in accounts[column]]
    for column in ("rank", "employees"):
        formatted[column] = accounts[column].map(str)
    write_csv(path, OUTPUT_COLUMNS, formatted.itertuples(index=False))


def write_territories(path: Path) -> None:
    write_csv(path, ("id", "name"), sorted(REGION_NAMES.items()))


def print_region_summary(accounts: pd.DataFrame) -> None:
    total_revenue = accounts["revenue"].sum()
    summary = accounts.groupby("region").agg(
        accounts=("account_id", "size"), revenue=("revenue", "sum")
    )
    print("Region  accounts  revenue share  name")
    for region_id, name in sorted(REGION_NAMES.items()):
        count = int(summary["accounts"].get(region_id, 0))
        share = summary["revenue"].get(region_id, 0.0) / total_revenue
        print(f"{region_id}     {count:>8}  {share:>12.1%}  {name}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input",
        type=Path,
        default=DEFAULT_INPUT,
        help="Fortune 1000 CSV to read (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=(
            "accounts CSV to write (default: %(default)s). "
            f"{TERRITORIES_FILE_NAME} is written to the same folder."
        ),
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        accounts = build_accounts(read_fortune(args.input))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    write_accounts(accounts, args.output)
    territories_path = args.output.parent / TERRITORIES_FILE_NAME
    write_territories(territories_path)
    print_region_summary(accounts)
    print(f"Wrote {len(accounts)} accounts to {args.output} and territories to {territories_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
