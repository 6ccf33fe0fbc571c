"""Extraction in a process pool: `prepare` runs on every core, off the caller's thread.

Extraction (trafilatura) is the CPU-bound half of ingest, ~20 ms a page; the other
half (`Archive.store`) writes SQLite and must stay in one process. `ExtractionPool`
hands article pages to worker processes and returns futures of their `Prepared`
results; the caller writes them (in batches, see `Archive.store_many`).

Workers are started with `forkserver` (or `spawn`), never `fork`: forking a process
that runs a Twisted or asyncio reactor copies its threads' locks in whatever state
they are in. The fork server imports the archive's extraction modules once, so each
worker starts with trafilatura already loaded. Workers ignore Ctrl-C: the process
that owns the pool decides when to stop and shuts them down itself. They also run
at a lower priority than their feeder (see WORKER_NICE).

This module imports neither Scrapy nor Twisted: the crawler's pipeline, a WARC
re-extraction or a distributed writer can all use it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from archive.ingest import Outcome, Prepared, prepare
from archive.page import RawPage

logger = logging.getLogger(__name__)

# Modules the fork server imports before forking workers: everything `prepare` needs.
PRELOAD = ["archive.ingest", "archive.extract"]
# Workers run at a lower priority than the process that feeds them. That process
# (Scrapy's reactor, or a WARC reader) is serial: every millisecond it waits for a
# core is lost throughput, while extraction can fill whatever CPU is left. With
# workers = cores there is always one more busy process than cores; without this
# the scheduler would share them equally and slow the feeder down by a third.
WORKER_NICE = 10


def default_workers() -> int:
    """One worker per core: extraction is the crawl's CPU-bound part."""
    return max(1, os.cpu_count() or 1)


# Roles whose pages `prepare` extracts (see archive.ingest.prepare); the others are
# only recorded. tests/test_pool.py checks the two agree.
EXTRACTED_ROLES = ("article", "recheck")


def needs_extraction(page: RawPage) -> bool:
    """Whether `prepare` would run the extractor on this page.

    Feeds, sitemaps, section pages, robots.txt, unchanged (304) and failed fetches
    are only recorded: `prepare` returns at once for them, so they never go to a
    worker (shipping their bodies across a pipe would cost more than judging them
    here). Either way the result is `prepare`'s own, so a wrong guess here costs
    time, never a different archive.
    """
    return (
        page.role in EXTRACTED_ROLES
        and not page.error
        and page.status is not None
        and page.status < 400
        and page.status != 304
    )


@dataclass
class Extraction:
    """A worker's result: the prepared page, which process made it, and its CPU time."""

    prepared: Prepared
    pid: int
    cpu_seconds: float


def _init_worker(nice: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        with contextlib.suppress(OSError):  # not permitted here: same priority then
            os.nice(nice)


def _prepare_in_worker(page: RawPage, outlet: Any) -> Extraction:
    started = time.process_time()
    prepared = prepare(page, outlet)
    return Extraction(prepared, os.getpid(), time.process_time() - started)


class ExtractionPool:
    """A process pool running `prepare`, restarted if a worker dies.

    `submit` never blocks; bounding the pages in flight is the caller's job (the
    crawler's pipeline awaits a free slot, `archive.rebuild` keeps a window).
    """

    def __init__(
        self,
        workers: int | None = None,
        start_method: str = "forkserver",
        nice: int = WORKER_NICE,
    ):
        self.workers = workers or default_workers()
        self.nice = nice
        if start_method not in multiprocessing.get_all_start_methods():
            start_method = "spawn"
        self.context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self.context.set_forkserver_preload(PRELOAD)
        self._executor: ProcessPoolExecutor | None = None
        self.pids: set[int] = set()
        self.pages = 0
        self.cpu_seconds = 0.0
        self.restarts = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self.context,
                initializer=_init_worker,
                initargs=(self.nice,),
            )
        return self._executor

    def submit(self, page: RawPage, outlet: Any = None) -> Future[Extraction]:
        """Start extracting a page; the future holds its `Extraction`."""
        try:
            future = self._pool().submit(_prepare_in_worker, page, outlet)
        except BrokenProcessPool:
            self._restart()
            future = self._pool().submit(_prepare_in_worker, page, outlet)
        future.add_done_callback(self._account)
        return future

    def _account(self, future: Future[Extraction]) -> None:
        # Runs in the executor's own thread: plain counter updates only.
        if future.cancelled() or future.exception() is not None:
            return
        result = future.result()
        self.pids.add(result.pid)
        self.pages += 1
        self.cpu_seconds += result.cpu_seconds

    def _restart(self) -> None:
        """Replace a pool whose worker died (a page that crashed lxml, an OOM kill)."""
        logger.warning("An extraction worker died; starting a new pool")
        self.restarts += 1
        broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def retry_after_crash(self, page: RawPage, outlet: Any = None) -> Future[Extraction]:
        """Submit a page again after its pool broke, in a fresh pool."""
        if self._executor is not None and getattr(self._executor, "_broken", False):
            self._restart()
        return self.submit(page, outlet)

    def close(self, cancel: bool = False) -> None:
        """Stop the workers; waits for them, so no process outlives the pool."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=cancel)


def crashed(page: RawPage, error: BaseException) -> Prepared:
    """What to record for a page whose extraction killed its worker twice."""
    return Prepared(page, Outcome("failed", reason=f"extraction crashed: {error!r}"[:300]))
