"""Ctrl-C on a real `smartplan plan` process: the best plan so far, or no partial file.

Each test starts the command line in a subprocess on the Fortune 1000 accounts with a move
budget that takes far longer than the test waits, and sends SIGINT once the command has
printed that it is planning (the kernels are compiled and loaded by then).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import FORTUNE, FORTUNE_SPEC

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGINT to a subprocess needs POSIX signals"
)

# One chain, 1 billion moves: more than a minute of search at the fastest rate measured on
# this example (about 15 million moves per second, most of them local-search scans). The
# search runs in chunks of 1/64 of the budget, so a stop request is honoured within one.
MOVES = "1000000000"
STARTED = "planning; press Ctrl-C"
STOPPING = "stopping after the current chunk of moves"
WAIT_FOR_START = 300.0
WAIT_FOR_EXIT = 180.0


class _Run:
    """A `smartplan plan` subprocess whose stderr is collected by a thread."""

    def __init__(self, out: Path) -> None:
        command = [
            sys.executable,
            "-m",
            "smartplan.cli",
            "plan",
            str(FORTUNE),
            "--spec",
            str(FORTUNE_SPEC),
            "--out",
            str(out),
            "--moves",
            MOVES,
            "--chains",
            "1",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self.started = threading.Event()
        self.stopping = threading.Event()
        self.readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self.stdout.extend(self.process.stdout)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            if STARTED in line:
                self.started.set()
            if STOPPING in line:
                self.stopping.set()

    def wait_until_planning(self) -> None:
        if not self.started.wait(WAIT_FOR_START):
            self.process.kill()
            pytest.fail(f"smartplan never started planning; stderr: {''.join(self.stderr)}")
        assert self.process.poll() is None, "the run ended before it could be interrupted"

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> tuple[int, str, str]:
        try:
            self.process.wait(timeout=WAIT_FOR_EXIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail("smartplan did not stop within the time limit after SIGINT")
        for reader in self.readers:
            reader.join(timeout=10)
        return self.process.returncode, "".join(self.stdout), "".join(self.stderr)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def out_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    # A plan and scorecard from an earlier run, which an aborted run must leave alone.
    (folder / "plan.csv").write_text("account_id,territory\nF0001,R01\n")
    (folder / "plan_scorecard.json").write_text('{"summary": {"cost": 1.0}}\n')
    return folder


def test_ctrl_c_writes_best_plan_so_far(out_folder: Path) -> None:
    out = out_folder / "plan.csv"
    run = _Run(out)
    run.wait_until_planning()
    time.sleep(3.0)
    interrupted_at = time.monotonic()
    run.interrupt()
    code, stdout, stderr = run.finish()
    stop_seconds = time.monotonic() - interrupted_at

    assert code == 0, stderr
    assert "interrupted: writing the best plan found so far" in stderr
    assert "stopped by interrupted" in stdout
    assert stop_seconds < WAIT_FOR_EXIT

    plan = pd.read_csv(out, dtype={"account_id": str})
    accounts = pd.read_csv(FORTUNE, dtype={"account_id": str})
    assert sorted(plan["account_id"]) == sorted(accounts["account_id"])
    assert plan["territory"].notna().all()
    assert set(plan["territory"]) <= {f"R{index:02d}" for index in range(1, 11)}

    card = json.loads((out_folder / "plan_scorecard.json").read_text())
    assert card["summary"]["interrupted"] is True
    assert card["summary"]["accounts"] == 1000
    assert sorted(os.listdir(out_folder)) == ["plan.csv", "plan_scorecard.json"]


def test_second_ctrl_c_leaves_no_partial_file(out_folder: Path) -> None:
    before = _snapshot(out_folder)
    run = _Run(out_folder / "plan.csv")
    run.wait_until_planning()
    time.sleep(1.0)
    run.interrupt()
    # Python runs a signal handler between chunks of moves, and two signals that arrive
    # during one chunk count as one, so the second waits until the first was handled.
    assert run.stopping.wait(WAIT_FOR_EXIT), "".join(run.stderr)
    run.interrupt()
    code, _stdout, stderr = run.finish()

    # No temporary file is left behind in either outcome.
    assert sorted(os.listdir(out_folder)) == ["plan.csv", "plan_scorecard.json"]
    if code == 130:
        assert "aborted by a second Ctrl-C" in stderr
        assert _snapshot(out_folder) == before
    else:
        # The stopped run wrote both files before the second signal arrived.
        assert code == 0, stderr
        assert len(pd.read_csv(out_folder / "plan.csv")) == 1000
        card = json.loads((out_folder / "plan_scorecard.json").read_text())
        assert card["summary"]["interrupted"] is True
