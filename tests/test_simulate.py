"""Sweeps: local processes against a real Dask LocalCluster, failed runs, summary, CLI."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import smartplan
from smartplan.cli import main
from smartplan.errors import InputError, SmartPlanWarning
from smartplan.simulate import DaskExecutor, LocalExecutor, parse_territory_counts, summarize
from smartplan.simulate.executors import LOCAL_CLUSTER_OPTIONS, RowCallback
from smartplan.simulate.grid import RunTask
from smartplan.simulate.run import run_task
from smartplan.simulate.summary import figure_columns
from smartplan.simulate.variants import merge_layers, resolve_variants
from smartplan.simulate.warmup import warm_up, warmup_cases
from smartplan.spec import spec_from_dict

from .conftest import random_accounts

# 60 accounts at most 25 per territory: 2 territories cannot hold them, 3 and 4 can.
SPEC = {
    "plan": {"territories": 3, "seed": 11, "max_accounts": 25},
    "accounts": {"id": "account_id", "owner": "owner"},
    "search": {"chains": 2},
    "criteria": [
        {"kind": "balance", "metric": "revenue", "tolerance": 0.05},
        {"kind": "balance", "where": 'tier == "A"', "tolerance": 0.1},
        {"kind": "keep", "owner": "owner"},
    ],
}
SPEC_TOML = """
[plan]
territories = 3
seed = 11
max_accounts = 25

[accounts]
id = "account_id"
owner = "owner"

[[criteria]]
kind = "balance"
metric = "revenue"
tolerance = 0.05

[[criteria]]
kind = "keep"
owner = "owner"
"""
COUNTS = range(2, 5)
SEEDS = 2
MOVES = 4000
# Columns that depend on the machine or the process, not on the plan.
RUNTIME_COLUMNS = ["seconds", "worker", "kernels_compiled", "kernels_loaded"]


@pytest.fixture(scope="module")
def accounts() -> pd.DataFrame:
    return random_accounts(60, seed=5, territories=3)


@pytest.fixture(scope="module")
def warm_cache() -> None:
    """Compile or load the kernels here first, so that worker processes find them on disk."""
    warm_up(warmup_cases([spec_from_dict(SPEC)]))


@pytest.fixture(scope="module")
def local_rows(accounts: pd.DataFrame, warm_cache: None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmartPlanWarning)
        return smartplan.simulate(
            accounts, SPEC, territories=COUNTS, seeds=SEEDS, moves=MOVES, executor=LocalExecutor(2)
        )


@pytest.fixture(scope="module")
def dask_rows(accounts: pd.DataFrame, warm_cache: None) -> Iterator[pd.DataFrame]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, **LOCAL_CLUSTER_OPTIONS) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmartPlanWarning)
            yield smartplan.simulate(
                accounts, SPEC, territories=COUNTS, seeds=SEEDS, moves=MOVES, executor=executor
            )


class InProcessExecutor:
    """Runs the tasks one after the other in this process.

    It raises KeyboardInterrupt after `limit` rows and reports each row `copies` times.
    """

    def __init__(self, limit: int | None = None, copies: int = 1) -> None:
        self.limit = limit
        self.copies = copies

    def run(self, accounts: pd.DataFrame, tasks: Sequence[RunTask], on_row: RowCallback) -> None:
        for count, task in enumerate(tasks):
            if self.limit is not None and count == self.limit:
                raise KeyboardInterrupt
            row = run_task(accounts, task)
            for _ in range(self.copies):
                on_row(row)


def test_dask_rows_equal_local_rows(local_rows: pd.DataFrame, dask_rows: pd.DataFrame) -> None:
    assert len(local_rows) == len(COUNTS) * SEEDS
    pd.testing.assert_frame_equal(
        dask_rows.drop(columns=RUNTIME_COLUMNS), local_rows.drop(columns=RUNTIME_COLUMNS)
    )


def test_rows_cover_the_grid(local_rows: pd.DataFrame) -> None:
    assert list(local_rows["territories"]) == [2, 2, 3, 3, 4, 4]
    assert list(local_rows["seed"]) == [11, 12] * 3
    assert set(local_rows["variant"]) == {"base"}
    assert "max_deviation: balance revenue" in local_rows
    assert 'max_deviation: balance accounts where tier == "A"' in local_rows


def test_failed_run_becomes_row(local_rows: pd.DataFrame) -> None:
    failed = local_rows[local_rows["territories"] == 2]
    assert not failed["feasible"].any()
    for message in failed["error"]:
        assert "60 accounts" in message
        assert "add territories" in message
    assert failed["cost"].isna().all()
    others = local_rows[local_rows["territories"] > 2]
    assert others["feasible"].all()
    assert (others["error"] == "").all()
    assert (others["accounts_per_territory_max"] <= 25).all()


def test_workers_reuse_kernel_cache(local_rows: pd.DataFrame, dask_rows: pd.DataFrame) -> None:
    for rows in (local_rows, dask_rows):
        tasks_per_worker = rows["worker"].value_counts()
        assert tasks_per_worker.max() >= 2
        # The warm-up loads every kernel, so no run compiles or even loads one.
        assert (rows["kernels_compiled"] == 0).all()
        assert (rows["kernels_loaded"] == 0).all()


def test_row_reproduces_solve(accounts: pd.DataFrame, local_rows: pd.DataFrame) -> None:
    row = local_rows[local_rows["feasible"]].iloc[-1]
    spec = spec_from_dict(SPEC).with_territory_count(int(row["territories"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmartPlanWarning)
        plan = smartplan.solve(accounts, spec, seed=int(row["seed"]), moves=MOVES)
    assert plan.cost == row["cost"]
    assert plan.scorecard.summary["moved_share"] == row["moved_share"]


def test_summary_medians_equal_row_medians(local_rows: pd.DataFrame) -> None:
    summary = summarize(local_rows)
    assert list(summary["territories"]) == list(COUNTS)
    assert list(summary["runs"]) == [SEEDS] * len(COUNTS)
    assert list(summary["feasible"]) == [0, SEEDS, SEEDS]
    assert "60 accounts" in summary["error"].iloc[0]
    for point in summary.itertuples(index=False):
        group = local_rows[
            (local_rows["territories"] == point.territories) & local_rows["feasible"]
        ]
        for figure in figure_columns(local_rows):
            values = group[figure].to_numpy(dtype=float)
            expected = np.median(values) if len(values) else np.nan
            actual = summary.loc[summary["territories"] == point.territories, f"{figure} median"]
            np.testing.assert_equal(actual.iloc[0], expected)
    costs = local_rows.loc[local_rows["territories"] == 4, "cost"].to_numpy()
    last = summary.iloc[-1]
    assert last["cost min"] == costs.min()
    assert last["cost max"] == costs.max()
    assert last["cost iqr"] == pytest.approx(np.percentile(costs, 75) - np.percentile(costs, 25))


def test_variant_replaces_criteria(accounts: pd.DataFrame) -> None:
    counts_first = {"criteria": [{"kind": "balance"}, {"kind": "balance", "metric": "revenue"}]}
    specs = resolve_variants(SPEC, {"counts_first": counts_first})
    assert list(specs) == ["base", "counts_first"]
    variant = specs["counts_first"]
    assert [c.metric for c in variant.criteria] == [None, "revenue"]
    assert variant.max_accounts == 25
    assert variant.owner == "owner"
    rows = smartplan.simulate(
        accounts,
        SPEC,
        territories=3,
        seeds=1,
        moves=MOVES,
        variants={"counts_first": counts_first},
        executor=InProcessExecutor(),
    )
    assert list(rows["variant"]) == ["base", "counts_first"]
    assert rows["max_deviation: balance accounts"].isna().tolist() == [True, False]


def test_merge_layers_swaps_count_and_table() -> None:
    table = {"plan": {"seed": 1}, "territories": [{"id": "A"}, {"id": "B"}]}
    merged = merge_layers(table, {"plan": {"territories": 4}})
    assert merged == {"plan": {"seed": 1, "territories": 4}}
    merged = merge_layers({"plan": {"territories": 4, "seed": 1}}, {"territories": [{"id": "A"}]})
    assert merged == {"plan": {"seed": 1}, "territories": [{"id": "A"}]}


def test_duplicate_variant_name_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "base.toml"
    path.write_text('[[criteria]]\nkind = "balance"\n')
    with pytest.raises(smartplan.SpecError, match="variant name 'base' is used twice"):
        resolve_variants(SPEC, [path])


def test_territory_table_warns_once(accounts: pd.DataFrame) -> None:
    spec = {
        **{key: value for key, value in SPEC.items() if key != "plan"},
        "plan": {"seed": 3},
        "territories": [{"id": "T01"}, {"id": "T02"}, {"id": "T03", "tier": "senior"}],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = smartplan.simulate(
            accounts,
            spec,
            territories="2,3",
            seeds=1,
            moves=MOVES,
            executor=InProcessExecutor(),
        )
    messages = [str(w.message) for w in caught if issubclass(w.category, SmartPlanWarning)]
    assert len(messages) == 1
    assert "[[territories]] table of 'base'" in messages[0]
    assert "column owner" in messages[0]
    # T03 owners lose their home with 2 territories; the run keeps the detail.
    assert "'T03'" in rows["warnings"].iloc[0]
    assert rows["warnings"].iloc[1] == ""


def test_interrupt_keeps_finished_rows(accounts: pd.DataFrame) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = smartplan.simulate(
            accounts,
            SPEC,
            territories=COUNTS,
            seeds=SEEDS,
            moves=MOVES,
            executor=InProcessExecutor(limit=3),
        )
    messages = [str(w.message) for w in caught]
    assert any("the sweep was interrupted: 3 of 6 runs finished" in m for m in messages)
    assert rows.attrs["interrupted"] is True
    assert list(rows["run"]) == [0, 1, 2]


def test_repeated_report_keeps_one_row(accounts: pd.DataFrame) -> None:
    rows = smartplan.simulate(
        accounts, SPEC, territories=3, seeds=2, moves=MOVES, executor=InProcessExecutor(copies=2)
    )
    assert list(rows["run"]) == [0, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8..15", tuple(range(8, 16))), ("8,10,12", (8, 10, 12)), ("12", (12,)), (" 3 .. 4", (3, 4))],
)
def test_parse_territory_counts(text: str, expected: tuple[int, ...]) -> None:
    assert parse_territory_counts(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("8..x", "'x' is not a whole number"),
        ("15..8", "the range ends below its start; write 8..15"),
        ("8,,10", "an empty item is not a whole number"),
        ("0..3", "0 is below 1"),
        ("eight", "'eight' is not a whole number"),
    ],
)
def test_parse_territory_counts_rejects(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_territory_counts(text)
    assert str(caught.value).startswith(f"invalid territory counts {text!r}: {reason}")


def _write_inputs(tmp_path: Path, accounts: pd.DataFrame) -> tuple[Path, Path]:
    accounts_path = tmp_path / "accounts.csv"
    accounts.to_csv(accounts_path, index=False)
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(SPEC_TOML)
    return accounts_path, spec_path


def test_cli_writes_three_outputs(tmp_path: Path, accounts: pd.DataFrame, warm_cache: None) -> None:
    accounts_path, spec_path = _write_inputs(tmp_path, accounts)
    out = tmp_path / "sweep.csv"
    args = ["simulate", str(accounts_path), "--spec", str(spec_path), "--territories", "2,3"]
    args += ["--seeds", "2", "--moves", str(MOVES), "--workers", "2", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(out)
    assert len(rows) == 4
    assert rows["feasible"].tolist() == [False, False, True, True]
    summary = pd.read_csv(tmp_path / "sweep_summary.csv")
    assert summary["territories"].tolist() == [2, 3]
    assert summary["cost median"].iloc[1] == np.median(rows["cost"].iloc[2:])
    assert (tmp_path / "sweep_chart.png").read_bytes().startswith(b"\x89PNG")
    assert "4 runs, 2 failed; wrote" in result.stdout


def test_cli_rejects_bad_territories(tmp_path: Path, accounts: pd.DataFrame) -> None:
    accounts_path, spec_path = _write_inputs(tmp_path, accounts)
    out = tmp_path / "sweep.csv"
    args = ["simulate", str(accounts_path), "--spec", str(spec_path), "--territories", "8..x"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid territory counts '8..x': 'x' is not a whole number; write a range "
        "such as 8..15, a list such as 8,10,12 or one number such as 12"
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["accounts.csv", "spec.toml"]


def test_cli_ctrl_c_writes_finished_rows(
    tmp_path: Path, accounts: pd.DataFrame, warm_cache: None
) -> None:
    """One worker runs the two failing 1-territory runs, then a long run that Ctrl-C stops."""
    accounts_path, spec_path = _write_inputs(tmp_path, accounts)
    out = tmp_path / "sweep.csv"
    command = [sys.executable, "-m", "smartplan.cli", "simulate", str(accounts_path)]
    command += ["--spec", str(spec_path), "--territories", "1,3", "--seeds", "2"]
    command += ["--moves", "200000000", "--workers", "1", "--out", str(out)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        stderr = _read_until(process, b"2/4", timeout=180)
        os.killpg(process.pid, signal.SIGINT)
        stdout, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    stderr += rest
    assert process.returncode == 0, stderr.decode()
    assert b"the sweep was interrupted: 2 of 4 runs finished" in stderr
    rows = pd.read_csv(out)
    assert rows["territories"].tolist() == [1, 1]
    assert not rows["feasible"].any()
    assert b"2 runs, 2 failed; wrote" in stdout


def _read_until(process: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes:
    assert process.stderr is not None
    received = b""
    deadline = time.monotonic() + timeout
    while marker not in received:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} on stderr within {timeout} s: {received!r}"
        ready, _, _ = select.select([process.stderr], [], [], remaining)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"the process ended before {marker!r}: {received!r}"
            received += chunk
    return received
