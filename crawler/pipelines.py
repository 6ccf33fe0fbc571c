"""The hand-off from crawler to archive: every RawPage is prepared, then stored.

Extraction (`archive.ingest.prepare`, ~20 ms of trafilatura a page) runs in a
process pool (archive/pool.py) so that Scrapy's reactor thread keeps fetching and
parsing while the other cores extract. `process_item` hands an article page to the
pool and returns; it waits only when VEILLE_EXTRACT_WINDOW pages are already in the
pool, and while it waits Scrapy holds that response, its scraper slot fills up and
the engine stops downloading: back-pressure slows the crawl instead of growing
memory. The spider is closed only after every page in the pool has come back.

Prepared pages are written by this process (SQLite has one writer) in batches, in
the order they finish: one transaction every VEILLE_WRITE_BATCH pages or
VEILLE_WRITE_INTERVAL seconds, whichever comes first, and whatever is left when the
spider closes. Pages that need no extraction (feeds, sitemaps, sections, robots.txt,
failed fetches) are judged in-process and join the same batches. When the archive
itself cannot be written (disk full, I/O error) the batch is rolled back and the
crawl stops with "archive write failed".
"""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore

from archive.ingest import ARCHIVE_ERRORS, Archive, Outcome, Prepared, RunCounts, prepare
from archive.page import RawPage
from archive.pool import Extraction, ExtractionPool, crashed, default_workers, needs_extraction
from archive.store import now_iso

logger = logging.getLogger(__name__)

# Scrapy's close reasons → the run's status in the archive.
RUN_STATUS = {"finished": "finished", "shutdown": "interrupted", "cancelled": "interrupted"}

# Defaults of the settings documented in crawler/settings.py.
PAGES_IN_FLIGHT_PER_WORKER = 32  # the reactor may take a few hundred ms to collect a result
WRITE_BATCH = 50  # pages per transaction
WRITE_INTERVAL = 0.5  # seconds: a slow crawl still shows its pages in the archive promptly


def extract_workers(value: Any) -> int:
    """VEILLE_EXTRACT_WORKERS: empty means one per core; 0 or 1 extracts in-process."""
    if value is None or str(value).strip() == "":
        return default_workers()
    return max(0, int(value))


class ArchivePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.since: date | None = None
        settings = crawler.settings
        self.workers = extract_workers(settings.get("VEILLE_EXTRACT_WORKERS"))
        self.window = settings.getint("VEILLE_EXTRACT_WINDOW", 0) or (
            max(1, self.workers) * PAGES_IN_FLIGHT_PER_WORKER
        )
        self.batch_size = max(1, settings.getint("VEILLE_WRITE_BATCH", WRITE_BATCH))
        self.batch_interval = settings.getfloat("VEILLE_WRITE_INTERVAL", WRITE_INTERVAL)
        self.pool: ExtractionPool | None = None
        self._slots: DeferredSemaphore | None = None
        self._batch: list[Prepared] = []
        self._in_flight: set[Future[Extraction]] = set()
        self._flusher = None
        self.write_failed: BaseException | None = None
        crawler.signals.connect(self._robots_checked, signal=signals.response_received)
        # The run is closed on spider_closed, not close_spider: only the signal
        # carries the reason (finished, shutdown on Ctrl-C, ...).
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        from twisted.internet.task import LoopingCall

        spider = spider or self.crawler.spider
        self.archive = Archive(spider.db_path, spider.outlets, warc_root=spider.warc_root)
        spider.archive = self.archive
        self.since = spider.since
        self.run_id = self.archive.start_run([o.slug for o in spider.outlets], spider.since)
        spider.run_id = self.run_id
        if self.workers > 1:
            self.pool = ExtractionPool(self.workers)
            self._slots = DeferredSemaphore(self.window)
        self._flusher = LoopingCall(self._flush_quietly)
        self._flusher.start(self.batch_interval, now=False)
        logger.info(
            "Run %s: crawling %s into %s (%s)",
            self.run_id,
            ", ".join(o.slug for o in spider.outlets),
            spider.db_path,
            f"extracting in {self.workers} worker processes"
            if self.pool
            else "extracting in-process",
        )

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, RawPage):
            return item
        outlet = self.archive.outlets.get(item.outlet)
        if self.pool is not None and needs_extraction(item):
            # Wait only for room in the pool, not for the extraction itself: the
            # response is released at once, so Scrapy's scraper slot (5 MB by
            # default) never fills with pages that are merely queued for a worker.
            await maybe_deferred_to_future(self._slots.acquire())
            if self.pool is not None:
                self._submit(item, outlet, retry=True)
                return None
            self._slots.release()  # the pool closed while we waited (a forced stop)
            self._queue(prepare(item, outlet))
        else:
            self._queue(prepare(item, outlet))
        return None

    # -- extraction in the pool -------------------------------------------------

    def _submit(self, page: RawPage, outlet: Any, retry: bool) -> None:
        """Send a page to the pool; its result joins the next batch (slot held till then)."""
        from twisted.internet import reactor

        future = (self.pool.submit if retry else self.pool.retry_after_crash)(page, outlet)
        self._in_flight.add(future)
        # Done-callbacks run in the executor's thread; the archive belongs to the reactor's.
        future.add_done_callback(
            lambda done: reactor.callFromThread(self._extracted, done, page, outlet, retry)
        )

    def _extracted(
        self, future: Future[Extraction], page: RawPage, outlet: Any, retry: bool
    ) -> None:
        self._in_flight.discard(future)
        try:
            prepared = future.result().prepared
        except BrokenProcessPool as exc:
            if retry and self.pool is not None:
                # A worker died (this page or another in flight broke lxml, or the
                # OOM killer): try once more in a fresh pool before giving up on it.
                self._submit(page, outlet, retry=False)
                return
            logger.error("Extraction of %s crashed its worker twice", page.url)
            prepared = crashed(page, exc)
        except CancelledError:
            self._slots.release()
            return
        except Exception:
            # As an error in Archive.ingest always was: logged, the page not recorded.
            logger.exception("Extraction of %s failed", page.url)
            self._slots.release()
            return
        self._slots.release()
        self._queue(prepared)

    async def _drain(self) -> None:
        """Wait for every page still in the pool (the spider is closing)."""
        while self._in_flight:
            waiting = list(self._in_flight)
            await maybe_deferred_to_future(
                DeferredList([self._deferred(f) for f in waiting], consumeErrors=True)
            )
            # Their results are queued from reactor callbacks: let those run.
            await maybe_deferred_to_future(self._later(0))

    @staticmethod
    def _deferred(future: Future) -> Deferred:
        from twisted.internet import reactor

        done: Deferred = Deferred()
        future.add_done_callback(lambda _: reactor.callFromThread(done.callback, None))
        return done

    @staticmethod
    def _later(seconds: float) -> Deferred:
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        return deferLater(reactor, seconds, lambda: None)

    # -- writing ----------------------------------------------------------------

    def _queue(self, prepared: Prepared) -> None:
        self._batch.append(prepared)
        if len(self._batch) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._batch or self.archive is None:
            return
        batch, self._batch = self._batch, []
        if self.write_failed:
            return  # the crawl is stopping: nothing more can be written
        try:
            outcomes = self.archive.store_many(batch, run_id=self.run_id, since=self.since)
        except ARCHIVE_ERRORS as exc:
            self._stop_writing(exc)
            return
        for prepared, outcome in zip(batch, outcomes, strict=True):
            if outcome is not None:
                self._note(prepared.page, outcome)

    def _stop_writing(self, error: BaseException) -> None:
        """The archive cannot be written (disk full, I/O error): stop the crawl cleanly.

        The failed batch was rolled back, so the archive stays as it was before it;
        its pages are not archived and the next crawl fetches them again.
        """
        if self.write_failed:
            return
        self.write_failed = error
        logger.error("archive write failed: %s; stopping the crawl", error)
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and getattr(engine, "spider", None) is not None:
            deferred_from_coro(engine.close_spider_async(reason="archive-write-failed"))

    def _flush_quietly(self) -> None:
        # A LoopingCall stops for good on its first exception; a failed batch is
        # logged by store_many page by page, anything else here must not stop writing.
        try:
            self._flush()
        except Exception:
            logger.exception("Writing a batch of pages failed")

    def _note(self, page: RawPage, outcome: Outcome) -> None:
        self.crawler.stats.inc_value(f"veille/outcome/{outcome.kind}")
        if outcome.kind == "archived":
            logger.debug("Archived %s", page.url)
        elif outcome.kind == "not-article" and page.role == "article":
            logger.info("Not an article: %s (%s)", page.url, outcome.reason)

    def _finish_writing(self) -> None:
        """Write what is left and stop the workers; safe to call more than once."""
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        self._flush()
        if self.pool is not None:
            pool, self.pool = self.pool, None
            # Every item is done by the time the spider closes, so nothing is left to
            # cancel on a normal close; after a forced stop the rest is dropped.
            pool.close(cancel=True)
            stats = self.crawler.stats
            stats.set_value("veille/extract/pool_pages", pool.pages)
            stats.set_value("veille/extract/workers_used", len(pool.pids))
            stats.set_value("veille/extract/cpu_seconds", round(pool.cpu_seconds, 1))
            logger.info(
                "Extraction: %d pages in %d worker processes (pids %s), %.1f s of CPU",
                pool.pages,
                len(pool.pids),
                ", ".join(map(str, sorted(pool.pids))) or "none",
                pool.cpu_seconds,
            )

    async def close_spider(self, spider: Spider | None = None) -> None:
        if self.archive is not None:
            await self._drain()
            self._finish_writing()

    # -- robots.txt and the end of the run ----------------------------------------

    def _robots_checked(self, response: Response, request: Request, spider=None):
        # Scrapy's RobotsTxtMiddleware fetches robots.txt itself, outside the
        # spider's callbacks; record that fetch too so every request has a row.
        if request.callback is not NO_CALLBACK or self.archive is None or self.write_failed:
            return
        spider = self.crawler.spider
        outlet = next((o.slug for o in spider.outlets if o.owns(response.url)), None)
        if outlet is None:
            return
        page = RawPage(
            url=request.url,
            final_url=response.url,
            outlet=outlet,
            role="robots",
            status=response.status,
            body=response.body,
            fetched_at=now_iso(),
            found_via="robots-check",
        )
        # Into the same batches as every other page: one writer, one failure path.
        self._queue(prepare(page, self.archive.outlets.get(outlet)))

    def _closed(self, spider, reason: str):
        if self.archive is None:
            return
        self._finish_writing()
        stats = self.crawler.stats
        status = RUN_STATUS.get(reason, "failed")
        outcomes = self.archive.outcomes
        counts = RunCounts(
            discovered=stats.get_value("veille/discovered", 0),
            fetched=sum(outcomes.values()),
            archived=outcomes["archived"],
            skipped=stats.get_value("veille/skipped_known", 0)
            + stats.get_value("veille/skipped_since", 0)
            + outcomes["skipped"]
            + outcomes["duplicate"]
            + outcomes["not-article"],
            failed=outcomes["failed"],
            requests=stats.get_value("downloader/request_count", 0),
            failures=list(spider.outlet_failures),
        )
        if counts.failures and len(spider.outlet_failures) == len(spider.outlets):
            status = "failed"
        if self.write_failed:
            status = "failed"
        try:
            self.archive.finish_run(self.run_id, status, counts)
        except ARCHIVE_ERRORS as exc:
            # Still no room: the run stays "running" in the archive, which the next
            # crawl records as interrupted.
            logger.error("archive write failed: %s; the run could not be closed", exc)
            status = "failed"
        spider.run_status = status
        spider.run_counts = counts
        try:
            self.archive.close()
        except ARCHIVE_ERRORS as exc:
            logger.error("archive write failed: %s", exc)
        self.archive = None
