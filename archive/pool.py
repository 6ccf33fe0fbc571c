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
import select
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from archive.extract import Extracted
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
    """A page extracted by the pool: the prepared page, which process made it, its CPU time."""

    prepared: Prepared
    pid: int
    cpu_seconds: float


@dataclass
class _Verdict:
    """What a worker sends back: `prepare`'s result without the page.

    The caller still holds the page, and its body is most of what would be pickled
    back; `ExtractionPool.submit` puts the caller's own page object back in.
    """

    outcome: Outcome | None
    extracted: Extracted | None
    pid: int
    cpu_seconds: float


def _init_worker(nice: int, owner: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        with contextlib.suppress(OSError):  # not permitted here: same priority then
            os.nice(nice)
    threading.Thread(target=_exit_with, args=(owner,), daemon=True).start()


def _exit_with(owner: int) -> None:
    """End this worker when the process that owns the pool is gone.

    A worker waits for work on a pipe it also holds the writing end of, and keeps
    the fork server alive; neither notices when the owner dies without shutting the
    pool down (SIGKILL, the OOM killer, a crash). Without this they would stay
    behind forever, one set per killed crawl.
    """
    try:
        handle = os.pidfd_open(owner)
    except (AttributeError, OSError):  # not Linux ≥ 5.3: look every second instead
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
    select.select([handle], [], [])  # readable once the owner has exited
    os._exit(0)


def _prepare_in_worker(page: RawPage, outlet: Any) -> _Verdict:
    started = time.process_time()
    prepared = prepare(page, outlet)
    return _Verdict(
        prepared.outcome, prepared.extracted, os.getpid(), time.process_time() - started
    )


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
                initargs=(self.nice, os.getpid()),
            )
        return self._executor

    def submit(self, page: RawPage, outlet: Any = None) -> Future[Extraction]:
        """Start extracting a page; the future holds its `Extraction`."""
        try:
            inner = self._pool().submit(_prepare_in_worker, page, outlet)
        except BrokenProcessPool:
            self._restart()
            inner = self._pool().submit(_prepare_in_worker, page, outlet)
        outer: Future[Extraction] = Future()
        inner.add_done_callback(lambda done: self._complete(done, outer, page))
        return outer

    def _complete(self, inner: Future[_Verdict], outer: Future[Extraction], page: RawPage) -> None:
        # Runs in the executor's own thread: counters, then the caller's future, so
        # that whoever waits on it sees a complete Prepared (with its page) at once.
        if inner.cancelled():
            outer.cancel()
            return
        error = inner.exception()
        if error is not None:
            outer.set_exception(error)
            return
        verdict = inner.result()
        self.pids.add(verdict.pid)
        self.pages += 1
        self.cpu_seconds += verdict.cpu_seconds
        prepared = Prepared(page, verdict.outcome, verdict.extracted)
        outer.set_result(Extraction(prepared, verdict.pid, verdict.cpu_seconds))

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
