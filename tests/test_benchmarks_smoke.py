"""The benchmark suite end to end on the smallest size, with tiny budgets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from smartplan import load_spec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import generate, report  # noqa: E402
from benchmarks import run as bench_run  # noqa: E402


def test_generator_is_seeded_and_realistic(tmp_path: Path) -> None:
    first, spec_path = generate.write_instance("s200", 3, tmp_path / "a")
    second, _ = generate.write_instance("s200", 3, tmp_path / "b")
    accounts = pd.read_parquet(first)
    pd.testing.assert_frame_equal(accounts, pd.read_parquet(second))
    assert len(accounts) == 200
    assert accounts["account_id"].is_unique
    spec = load_spec(spec_path)
    assert len(spec.territories) == 5
    assert len(spec.criteria) == 4
    assert set(accounts["owner"].dropna()) <= set(spec.territory_ids)
    zips = generate.zip_locations()
    assert accounts["zip"].isin(zips["zip"]).all()
    assert accounts["arr"].max() > 10 * accounts["arr"].median()
    assert accounts["parent_id"].notna().sum() == 20
    assert set(accounts["tier"]) == {"A", "B", "C"}


def test_suite_runs_smallest_size(tmp_path: Path) -> None:
    results = tmp_path / "results"
    code = bench_run.main(
        [
            "--size",
            "s200",
            "--seeds",
            "1",
            "--exact-time-limit",
            "5",
            "--smartplan-moves",
            "20000",
            "--smartplan-seeds",
            "1",
            "--threads",
            "1",
            "--instances",
            str(tmp_path / "instances"),
            "--results",
            str(results),
        ]
    )
    assert code == 0
    records = [json.loads(line) for line in (results / "s200.jsonl").read_text().splitlines()]
    assert [record["solver"] for record in records] == ["smartplan", "highs", "cp-sat"]
    for record in records:
        assert "error" not in record, record.get("error")
        assert record["peak_rss_mib"] > 0
        assert record["seconds"] > 0
    smartplan, highs, cpsat = records
    # The budget counts annealing and local-search moves; the steepest repair of the start
    # and the last local-search iteration come on top of it.
    assert smartplan["moves_evaluated"] >= 20_000
    assert smartplan["stopped_by"] == "move budget"
    assert highs["status"] in ("optimal", "feasible")
    if highs["status"] == "optimal":
        assert smartplan["cost"] >= highs["bound"] - 1e-9 * max(1.0, highs["cost"])
    assert cpsat["status"] in ("optimal", "feasible", "no solution")

    page = tmp_path / "RESULTS.md"
    report.main(["--results", str(results), "--out", str(page), "--plot", str(tmp_path / "p.png")])
    text = page.read_text()
    assert "s200" in text
    assert (tmp_path / "p.png").stat().st_size > 0


@pytest.mark.parametrize("size", ["s200", "m5k", "xl1m"])
def test_spec_of_every_size_loads(size: str, tmp_path: Path) -> None:
    path = tmp_path / f"{size}.toml"
    path.write_text(generate.spec_text(generate.SIZES[size], 1), encoding="utf-8")
    spec = load_spec(path)
    assert len(spec.territories) == generate.SIZES[size].territories
    assert len(spec.criteria) == generate.SIZES[size].criteria
