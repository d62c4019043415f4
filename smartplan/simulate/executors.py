"""Executors that run the tasks of a sweep: local processes, or a Dask distributed cluster.

Both send the account table to each worker once (the process pool's initializer, or a Dask
scatter with broadcast) and pass only the small `RunTask` with each task. Each run uses
one numba thread (see `smartplan.simulate.run`), so one worker per core fills a machine.

Compiled kernels come from numba's disk cache. Local worker processes share the machine's
cache folder. On a cluster, workers on one machine share that machine's cache. Across
machines, either point NUMBA_CACHE_DIR at a shared disk and install smartplan at the same
path on every worker (numba 0.68 files cache entries under a hash of the source folder's
path and checks a hash of the source file), or let each worker compile once. Every worker
runs a warm-up plan before its first task, so compiling happens there and not inside timed
runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, Protocol

import pandas as pd

from smartplan.errors import InputError
from smartplan.simulate.grid import RunTask
from smartplan.simulate.run import INTERRUPTED, Row, run_task
from smartplan.simulate.warmup import WarmupCase, warm_up, warmup_cases

logger = logging.getLogger("smartplan")

RowCallback = Callable[[Row], None]

# A LocalCluster of single-threaded worker processes with every port on 127.0.0.1. The
# scheduler serves its health and metrics routes over HTTP even without the dashboard,
# on port 8787 unless told otherwise, so that server gets a free loopback port too.
LOCAL_CLUSTER_OPTIONS: dict[str, Any] = {
    "threads_per_worker": 1,
    "processes": True,
    "host": "127.0.0.1",
    "scheduler_port": 0,
    "dashboard_address": "127.0.0.1:0",
    "scheduler_kwargs": {"dashboard": False},
}

# Seconds to wait for a remote scheduler to reply and to have at least one worker.
CONNECT_SECONDS = 30


class Executor(Protocol):
    """Runs every task and calls `on_row` in the calling thread as each run finishes.

    On KeyboardInterrupt the executor cancels the runs not started, stops the running ones
    where it can, reports every run that finished before the stop, and re-raises.
    """

    def run(
        self, accounts: pd.DataFrame, tasks: Sequence[RunTask], on_row: RowCallback
    ) -> None: ...


class LocalExecutor:
    """Runs tasks in local worker processes (one per core by default).

    Workers start with the "spawn" method, because numba's omp threading layer on Linux
    (GNU OpenMP) is not fork-safe once a parallel kernel has run in the parent. Workers
    ignore Ctrl-C. The parent sets a shared stop event instead, and each running plan stops
    after its current chunk of moves.
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InputError(f"workers = {workers} must be at least 1")
        self.workers = workers or _usable_cores()

    def run(self, accounts: pd.DataFrame, tasks: Sequence[RunTask], on_row: RowCallback) -> None:
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=context,
            initializer=_start_worker,
            initargs=(accounts, stop, _warmup_cases(tasks)),
        )
        futures: list[Future[Row]] = []
        reported: set[Future[Row]] = set()
        try:
            with _sigint_ignored():
                # The pool starts its workers here; they inherit the ignored SIGINT, so a
                # Ctrl-C while they import cannot kill them.
                futures = [pool.submit(_run_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                on_row(future.result())
                reported.add(future)
        except KeyboardInterrupt:
            stop.set()
            for future in futures:
                future.cancel()
            _report_finished([f for f in futures if f not in reported], on_row)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in the block. Only the main thread can set signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_worker_accounts: pd.DataFrame | None = None
_worker_stop: Any = None


def _start_worker(accounts: pd.DataFrame, stop: Any, cases: list[WarmupCase]) -> None:
    """Keep the account table and the stop event in this worker, and load the kernels."""
    global _worker_accounts, _worker_stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_accounts = accounts
    _worker_stop = stop
    warm_up(cases)


def _warmup_cases(tasks: Sequence[RunTask]) -> list[WarmupCase]:
    return warmup_cases({task.variant: task.spec for task in tasks}.values())


def _run_in_worker(task: RunTask) -> Row:
    assert _worker_accounts is not None, "the worker initializer did not run"
    if _worker_stop.is_set():
        # A task the pool had already queued when the stop came; the sweep drops it.
        return {"run": task.run, "stopped_by": INTERRUPTED}
    return run_task(_worker_accounts, task, should_stop=_worker_stop.is_set)


def _report_finished(futures: list[Future[Row]], on_row: RowCallback) -> None:
    """After a stop request, wait for the running plans and report those that finished.

    Plans stopped by the request are incomplete and are dropped by the sweep.
    """
    for future in as_completed([f for f in futures if not f.cancelled()]):
        if future.exception() is None:
            on_row(future.result())


@contextmanager
def _distributed_warnings_only() -> Iterator[None]:
    """Log only warnings and errors of Dask's `distributed` logger in the block.

    A LocalCluster restores the logger's level when it closes and then logs its shutdown
    steps at INFO level, which would bury the sweep's own output.
    """
    dask_logger = logging.getLogger("distributed")
    previous = dask_logger.level
    dask_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        dask_logger.setLevel(previous)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster.

    Give the `address` of a running scheduler, or `local_workers` to start a `LocalCluster`
    of that many single-threaded worker processes on 127.0.0.1 for the length of the sweep.
    Workers need smartplan installed. Run them with one thread each (`dask worker ADDRESS
    --nthreads 1 --nworkers N`): with numba's workqueue threading layer, two threads of one
    process that start parallel kernels at once abort the process.
    """

    def __init__(self, address: str | None = None, local_workers: int | None = None) -> None:
        if (address is None) == (local_workers is None):
            raise InputError("give either a scheduler address or a number of local workers")
        if local_workers is not None and local_workers < 1:
            raise InputError(f"local workers = {local_workers} must be at least 1")
        self.address = address
        self.local_workers = local_workers

    def run(self, accounts: pd.DataFrame, tasks: Sequence[RunTask], on_row: RowCallback) -> None:
        with _distributed_warnings_only():
            self._run(accounts, tasks, on_row)

    def _run(self, accounts: pd.DataFrame, tasks: Sequence[RunTask], on_row: RowCallback) -> None:
        from distributed import Client, as_completed

        cluster = self._start_local_cluster()
        client = self._connect(Client, cluster)
        futures: list[Any] = []
        reported: set[str] = set()
        try:
            self._warm_up_workers(client, _warmup_cases(tasks))
            shared = client.scatter(accounts, broadcast=True, hash=False)
            prefix = f"smartplan-run-{uuid.uuid4().hex[:8]}"
            futures = [
                client.submit(run_task, shared, task, key=f"{prefix}-{task.run}", pure=False)
                for task in tasks
            ]
            for future in as_completed(futures):
                on_row(future.result())
                reported.add(future.key)
        except KeyboardInterrupt:
            # A task that is already running on a worker cannot be stopped from here. It
            # finishes within its move budget or time limit, and its result is dropped.
            for future in futures:
                if future.key not in reported and future.status == "finished":
                    on_row(future.result())
            client.cancel(futures)
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _start_local_cluster(self) -> Any:
        if self.local_workers is None:
            return None
        from distributed import LocalCluster

        return LocalCluster(n_workers=self.local_workers, **LOCAL_CLUSTER_OPTIONS)

    def _connect(self, client_class: Any, cluster: Any) -> Any:
        if cluster is not None:
            return client_class(cluster)
        try:
            client = client_class(self.address, timeout=CONNECT_SECONDS)
        except OSError as error:
            raise InputError(
                f"cannot connect to the Dask scheduler at {self.address}: {error}; check the "
                "address and that the scheduler is running"
            ) from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            client.close()
            raise InputError(
                f"the Dask scheduler at {self.address} has no workers after "
                f"{CONNECT_SECONDS} s; start workers with `dask worker {self.address}`"
            ) from None
        return client

    def _warm_up_workers(self, client: Any, cases: list[WarmupCase]) -> None:
        """Run the warm-up task once on every worker, so no timed run compiles kernels."""
        workers = list(client.scheduler_info()["workers"])
        warmups = [
            client.submit(warm_up, cases, workers=[worker], allow_other_workers=False, pure=False)
            for worker in workers
        ]
        for report in client.gather(warmups):
            logger.info(
                "warm-up on %s: %d kernels compiled, %d loaded from the cache in %.1f s",
                report["worker"],
                report["kernels_compiled"],
                report["kernels_loaded"],
                report["seconds"],
            )
