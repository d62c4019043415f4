"""The command line: the main job, byte-identical output, and one clear error per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from smartplan.cli import main

from .conftest import FORTUNE, FORTUNE_SPEC

SMALL_SPEC = """
[plan]
territories = 3
seed = 1
[search]
moves = 50000
[accounts]
id = "account_id"
[[criteria]]
kind = "balance"
metric = "revenue"
"""


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


def test_fortune_plan_is_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for name in ("one.csv", "two.csv"):
        code, out, err = _run(
            [
                "plan",
                str(FORTUNE),
                "--spec",
                str(FORTUNE_SPEC),
                "--out",
                str(tmp_path / name),
                "--seed",
                "3",
                "--moves",
                "400000",
            ]
        )
        assert code == 0, err
        assert "before: current owners" in out
        assert "after: this plan" in out
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    plan = pd.read_csv(tmp_path / "one.csv")
    assert list(plan.columns) == [
        "account_id",
        "territory",
        "home_territory",
        "moved",
        "reason",
        "alternative",
        "alternative_cost",
        "explanation",
    ]
    assert (tmp_path / "one_scorecard.json").exists()


def test_parquet_output(tmp_path: Path) -> None:
    out = tmp_path / "plan.parquet"
    code, _, err = _run(
        [
            "plan",
            str(FORTUNE),
            "--spec",
            str(FORTUNE_SPEC),
            "--out",
            str(out),
            "--moves",
            "100000",
            "--quiet",
        ]
    )
    assert code == 0, err
    assert len(pd.read_parquet(out)) == 1000


def test_score_current_owners(tmp_path: Path) -> None:
    code, out, err = _run(
        ["score", str(FORTUNE), "--spec", str(FORTUNE_SPEC), "--out", str(tmp_path / "before.json")]
    )
    assert code == 0, err
    assert "scorecard of column 'owner'" in out
    assert (tmp_path / "before.json").exists()


def _table(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(rows)
    return path


BAD_INPUTS = {
    "duplicate ids": ("account_id,revenue\na,1\nb,2\na,3\n", SMALL_SPEC, "duplicate account ids"),
    "missing column": ("account_id,revenu\na,1\nb,2\n", SMALL_SPEC, "missing column 'revenue'"),
    "nan metric": ("account_id,revenue\na,1\nb,\nc,3\n", SMALL_SPEC, "empty or NaN in row 2"),
    "text metric": ("account_id,revenue\na,1\nb,lots\n", SMALL_SPEC, "non-numeric values in row 2"),
    "unknown kind": (
        "account_id,revenue\na,1\n",
        SMALL_SPEC.replace('kind = "balance"', 'kind = "spread"'),
        "is not a criterion kind",
    ),
    "bad filter": (
        "account_id,revenue\na,1\n",
        SMALL_SPEC + 'where = "revenue >> 3"\n',
        "invalid filter",
    ),
    "infeasible": (
        "account_id,revenue\na,1\nb,2\nc,3\nd,4\n",
        SMALL_SPEC.replace("seed = 1", "seed = 1\nmax_accounts = 1"),
        "raise the maximum",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_one_error_no_output(tmp_path: Path, case: str) -> None:
    rows, spec_text, fragment = BAD_INPUTS[case]
    accounts = _table(tmp_path, rows)
    spec = tmp_path / "spec.toml"
    spec.write_text(spec_text)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _out, err = _run(
        ["plan", str(accounts), "--spec", str(spec), "--out", str(out_dir / "plan.csv")]
    )
    assert code == 2
    assert fragment in err
    assert err.count("error:") == 1
    assert list(out_dir.iterdir()) == []


def test_negative_seed_is_usage_error(tmp_path: Path) -> None:
    code, _, err = _run(
        [
            "plan",
            str(FORTUNE),
            "--spec",
            str(FORTUNE_SPEC),
            "--out",
            str(tmp_path / "p.csv"),
            "--seed",
            "-5",
        ]
    )
    assert code == 2
    assert "--seed" in err
    assert not (tmp_path / "p.csv").exists()


def test_scorecard_json_is_strict(tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    code, _, err = _run(
        [
            "plan",
            str(FORTUNE),
            "--spec",
            str(FORTUNE_SPEC),
            "--out",
            str(out),
            "--moves",
            "20000",
            "--quiet",
        ]
    )
    assert code == 0, err

    def reject(constant: str) -> None:
        raise AssertionError(f"scorecard JSON contains {constant}")

    data = json.loads((tmp_path / "plan_scorecard.json").read_text(), parse_constant=reject)
    assert data["summary"]["accounts"] == 1000


def test_filter_matching_nothing_warns(tmp_path: Path) -> None:
    accounts = _table(tmp_path, "account_id,revenue,tier\na,1,A\nb,2,B\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(SMALL_SPEC + "where = 'tier == \"Z\"'\n")
    code, _, err = _run(
        ["plan", str(accounts), "--spec", str(spec), "--out", str(tmp_path / "plan.csv")]
    )
    assert code == 0, err
    assert "counts nothing" in err


def test_filter_error_names_spec_field(tmp_path: Path) -> None:
    accounts = _table(tmp_path, "account_id,revenue,tier\na,1,A\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(SMALL_SPEC + "where = 'tier = \"A\"'\n")
    code, _, err = _run(
        ["plan", str(accounts), "--spec", str(spec), "--out", str(tmp_path / "plan.csv")]
    )
    assert code == 2
    assert "criteria[1] (balance).where" in err
    assert str(spec) in err
