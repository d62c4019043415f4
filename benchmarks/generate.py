"""Seeded benchmark instances: an accounts table and its plan spec.

Each instance is written as `<size>_seed<seed>.parquet` (or .csv) with the spec
`<size>_seed<seed>.toml` beside it. The accounts look like a B2B book of business:

- locations are real US ZIP codes (active, standard) with their coordinates, from the
  offline `zipcodes` package, drawn uniformly over ZIP codes;
- employees are lognormal; ARR is 0 for the 30% of accounts that are prospects and
  otherwise grows with employees times a lognormal factor; potential is Pareto (alpha 1.6)
  times employees ** 0.5, so both metrics are heavy-tailed;
- tier A is the top 10% by ARR + potential, tier B the next 30%; sectors have unequal
  shares; employee bands follow the usual 1-49 / 50-249 / 250-999 / 1000-4999 / 5000+ cuts;
- 10% of accounts are subsidiaries whose parent is one of the largest 5% of accounts
  (`parent_id`), so corporate families of about 3 accounts move together;
- current owners are geographic: contiguous regions along a Z-order curve, of uneven
  size (about 30% spread in accounts, more in ARR), which gives the legacy imbalance that
  rebalancing starts from; 3% of accounts were reassigned by hand to a random owner and
  2% have no owner yet.

No family may hold more than half of a territory's share of ARR or potential (larger
ones are scaled down), since a planner would give such an account a named-account team.

Usage: python benchmarks/generate.py --size m5k --seed 1 --out benchmarks/instances
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smartplan.spec import numbered_territories


@dataclass(frozen=True)
class Size:
    """One benchmark size: accounts, territories and the number of criteria."""

    accounts: int
    territories: int
    criteria: int
    arr_tolerance: float = 0.05


SIZES: dict[str, Size] = {
    "s200": Size(200, 5, 4),
    "s500": Size(500, 10, 4),
    "m5k": Size(5_000, 25, 5),
    "l50k": Size(50_000, 100, 5),
    "xl1m": Size(1_000_000, 500, 6, arr_tolerance=0.02),
}

SECTORS = [
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Professional Services",
    "Energy",
    "Telecommunications",
    "Education",
    "Transportation",
    "Media",
    "Public Sector",
]
EMPLOYEE_BANDS = ["1-49", "50-249", "250-999", "1000-4999", "5000+"]
BAND_EDGES = [50, 250, 1000, 5000]


def zip_locations() -> pd.DataFrame:
    """Active standard US ZIP codes with state and coordinates."""
    import zipcodes

    rows = [
        (row["zip_code"], row["state"], float(row["lat"]), float(row["long"]))
        for row in zipcodes.list_all()
        if row["active"] and row["zip_code_type"] == "STANDARD" and row["lat"] and row["long"]
    ]
    return pd.DataFrame(rows, columns=["zip", "state", "latitude", "longitude"])


def generate_accounts(size: Size, seed: int) -> pd.DataFrame:
    """Return the accounts table of one instance (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = size.accounts
    zips = zip_locations()
    places = zips.iloc[rng.integers(0, len(zips), n)].reset_index(drop=True)

    employees = np.maximum(1, np.rint(rng.lognormal(np.log(120.0), 1.6, n))).astype(np.int64)
    customer = rng.random(n) >= 0.3
    arr = np.where(customer, 900.0 * employees**0.8 * rng.lognormal(0.0, 0.9, n), 0.0)
    potential = (rng.pareto(1.6, n) + 1.0) * 4_000.0 * np.sqrt(employees)
    sector_share = rng.dirichlet(np.full(len(SECTORS), 2.0))

    ids = np.array([f"ACC{i:07d}" for i in range(n)], dtype=object)
    parent = _families(rng, employees, ids)
    owner = _legacy_owners(rng, places, size.territories)
    owner = np.where(parent != "", owner[_parent_rows(parent, ids)], owner)
    frame = pd.DataFrame(
        {
            "account_id": ids,
            "parent_id": parent,
            "arr": arr,
            "potential": potential,
            "employees": employees,
            "sector": np.array(SECTORS, dtype=object)[rng.choice(len(SECTORS), n, p=sector_share)],
            "zip": places["zip"].to_numpy(),
            "state": places["state"].to_numpy(),
            "latitude": places["latitude"].to_numpy(),
            "longitude": places["longitude"].to_numpy(),
            "owner": owner,
        }
    )
    for metric in ("arr", "potential"):
        frame[metric] = np.round(_cap_families(frame, metric, size.territories), 2)
    score = frame["arr"].rank(pct=True) + frame["potential"].rank(pct=True)
    cut_a, cut_b = np.quantile(score, [0.9, 0.6])
    frame["tier"] = np.where(score >= cut_a, "A", np.where(score >= cut_b, "B", "C"))
    frame["employee_band"] = np.array(EMPLOYEE_BANDS, dtype=object)[
        np.searchsorted(BAND_EDGES, employees, side="right")
    ]
    frame["parent_id"] = frame["parent_id"].replace("", None)
    frame["owner"] = frame["owner"].replace("", None)
    return frame


def _families(rng: np.random.Generator, employees: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Parent id of each account ("" for none): 10% children of the largest 5% accounts."""
    n = len(ids)
    parent = np.full(n, "", dtype=object)
    n_parents = max(1, n // 20)
    parents = np.argsort(-employees, kind="stable")[:n_parents]
    others = np.setdiff1d(np.arange(n), parents)
    children = rng.choice(others, size=min(len(others), n // 10), replace=False)
    parent[children] = ids[rng.choice(parents, size=len(children))]
    return parent


def _parent_rows(parent: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Row of each account's parent (its own row when it has none)."""
    row_of = pd.Series(np.arange(len(ids)), index=ids)
    rows = np.arange(len(ids))
    has = parent != ""
    rows[has] = row_of.loc[parent[has]].to_numpy()
    return rows


def _legacy_owners(
    rng: np.random.Generator, places: pd.DataFrame, n_territories: int
) -> np.ndarray:
    """Owner of each account: geographic books of uneven size, with exceptions.

    Accounts are ordered along a Z-order curve over longitude and latitude and cut into
    contiguous books whose shares follow a Dirichlet(12) draw (about 30% spread).
    """
    territory_ids = np.array([t.id for t in numbered_territories(n_territories)], dtype=object)
    order = np.argsort(_morton(places["longitude"].to_numpy(), places["latitude"].to_numpy()))
    shares = rng.dirichlet(np.full(n_territories, 12.0))
    edges = np.rint(np.cumsum(shares)[:-1] * len(order)).astype(np.int64)
    book = np.empty(len(order), dtype=np.int64)
    book[order] = np.searchsorted(edges, np.arange(len(order)), side="right")
    owner = territory_ids[book]
    draw = rng.random(len(order))
    reassigned = draw < 0.03
    owner[reassigned] = territory_ids[rng.integers(0, n_territories, reassigned.sum())]
    owner[(draw >= 0.03) & (draw < 0.05)] = ""
    return owner


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order code of points: the bits of x and y quantised to 16 bits, interleaved."""

    def spread(values: np.ndarray) -> np.ndarray:
        low, high = values.min(), values.max()
        v = np.rint((values - low) / max(high - low, 1e-12) * 65535).astype(np.uint64)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    return spread(x) | (spread(y) << np.uint64(1))


def _cap_families(frame: pd.DataFrame, metric: str, n_territories: int) -> np.ndarray:
    """Scale down families holding more than half of one territory's share of `metric`."""
    values = frame[metric].to_numpy(dtype=np.float64).copy()
    family = frame["parent_id"].fillna("").to_numpy(dtype=object)
    family = np.where(family == "", frame["account_id"].to_numpy(dtype=object), family)
    codes, _ = pd.factorize(family)
    for _ in range(5):
        cap = 0.5 * values.sum() / n_territories
        sums = np.bincount(codes, weights=values)
        factor = np.minimum(1.0, cap / np.maximum(sums, 1e-300))
        if (factor >= 1.0).all():
            break
        values *= factor[codes]
    return values


def spec_text(size: Size, seed: int) -> str:
    """The plan spec of an instance, as TOML."""
    criteria = [
        ("balance", 'metric = "arr"', size.arr_tolerance, "ARR within the band"),
        ("balance", 'metric = "potential"', 0.05, "potential within 5%"),
        ("balance", "where = 'tier == \"A\"'", 0.10, "an even count of tier A accounts"),
    ]
    if size.criteria >= 6:
        criteria.append(
            (
                "balance",
                'where = \'employee_band in ["1000-4999", "5000+"]\'',
                0.10,
                "an even count of enterprise accounts",
            )
        )
    if size.criteria >= 5:
        criteria.append(("balance", "", 0.05, "an even count of accounts"))
    lines = [
        f"# Benchmark instance: {size.accounts} accounts, {size.territories} territories,",
        f"# {size.criteria} criteria (benchmarks/generate.py, seed {seed}).",
        "",
        "[plan]",
        f"territories = {size.territories}",
        f"seed = {seed}",
        "",
        "[accounts]",
        'id = "account_id"',
        'owner = "owner"',
        'parent = "parent_id"',
    ]
    for priority, (kind, extra, tolerance, comment) in enumerate(criteria, start=1):
        lines += ["", f"[[criteria]]  # priority {priority}: {comment}", f'kind = "{kind}"']
        if extra:
            lines.append(extra)
        lines.append(f"tolerance = {tolerance}")
    lines += [
        "",
        f"[[criteria]]  # priority {len(criteria) + 1}: move as few accounts as possible",
        'kind = "keep"',
        'owner = "owner"',
        "",
    ]
    return "\n".join(lines)


def instance_paths(out: Path, size_name: str, seed: int, fmt: str = "parquet") -> tuple[Path, Path]:
    stem = f"{size_name}_seed{seed}"
    return out / f"{stem}.{fmt}", out / f"{stem}.toml"


def write_instance(size_name: str, seed: int, out: Path, fmt: str = "parquet") -> tuple[Path, Path]:
    """Generate one instance and write its table and spec; return both paths."""
    size = SIZES[size_name]
    out.mkdir(parents=True, exist_ok=True)
    table_path, spec_path = instance_paths(out, size_name, seed, fmt)
    frame = generate_accounts(size, seed)
    if fmt == "csv":
        frame.to_csv(table_path, index=False)
    else:
        frame.to_parquet(table_path, index=False)
    spec_path.write_text(spec_text(size, seed), encoding="utf-8")
    return table_path, spec_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--seed", type=int, nargs="+", default=[1])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "instances")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    args = parser.parse_args(argv)
    for seed in args.seed:
        table, spec = write_instance(args.size, seed, args.out, args.format)
        print(f"wrote {table} and {spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
