"""The hand-off from crawler to archive: every RawPage goes through Archive.ingest."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK

from archive.ingest import Archive, RunCounts
from archive.page import RawPage
from archive.store import now_iso

logger = logging.getLogger(__name__)

# Scrapy's close reasons → the run's status in the archive.
RUN_STATUS = {"finished": "finished", "shutdown": "interrupted", "cancelled": "interrupted"}


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.archive: Archive | None = None
        self.run_id: int | None = None
        crawler.signals.connect(self._robots_checked, signal=signals.response_received)
        # The run is closed on spider_closed, not close_spider: only the signal
        # carries the reason (finished, shutdown on Ctrl-C, ...).
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.archive = Archive(spider.db_path, spider.outlets, warc_root=spider.warc_root)
        spider.archive = self.archive
        self.run_id = self.archive.start_run([o.slug for o in spider.outlets], spider.since)
        spider.run_id = self.run_id
        logger.info(
            "Run %s: crawling %s into %s",
            self.run_id,
            ", ".join(o.slug for o in spider.outlets),
            spider.db_path,
        )

    def process_item(self, item, spider=None):
        if not isinstance(item, RawPage):
            return item
        spider = spider or self.crawler.spider
        outcome = self.archive.ingest(item, run_id=self.run_id, since=spider.since)
        self.crawler.stats.inc_value(f"veille/outcome/{outcome.kind}")
        if outcome.kind == "archived":
            logger.debug("Archived %s", item.url)
        elif outcome.kind == "not-article" and item.role == "article":
            logger.info("Not an article: %s (%s)", item.url, outcome.reason)
        return None

    def _robots_checked(self, response: Response, request: Request, spider=None):
        # Scrapy's RobotsTxtMiddleware fetches robots.txt itself, outside the
        # spider's callbacks; record that fetch too so every request has a row.
        if request.callback is not NO_CALLBACK or self.archive is None:
            return
        spider = self.crawler.spider
        outlet = next((o.slug for o in spider.outlets if o.owns(response.url)), None)
        if outlet is None:
            return
        self.archive.ingest(
            RawPage(
                url=request.url,
                final_url=response.url,
                outlet=outlet,
                role="robots",
                status=response.status,
                body=response.body,
                fetched_at=now_iso(),
                found_via="robots-check",
            ),
            run_id=self.run_id,
        )

    def _closed(self, spider, reason: str):
        if self.archive is None:
            return
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
        self.archive.finish_run(self.run_id, status, counts)
        spider.run_status = status
        spider.run_counts = counts
        self.archive.close()
