"""Downloader middlewares.

Scrapy's RetryMiddleware re-queues a failed request at once. An outlet that
answers 429 or 503 is asking us to wait, so this subclass waits: the server's
Retry-After when it gives one, otherwise an exponential backoff. While waiting
it also raises the download delay of that site's slot, so the other requests to
the same outlet slow down too (AutoThrottle lowers it again once pages flow).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from archive.urls import strip_credentials

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        delay = asked if asked is not None else self.backoff_base * (2**retries)
        if delay > self.backoff_max:
            logger.warning(
                "%s asks to wait %.0f s (Retry-After), more than RETRY_BACKOFF_MAX=%.0f s: "
                "giving up on it for this run",
                request.url,
                delay,
                self.backoff_max,
            )
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        logger.info(
            "Waiting %.1f s before retrying %s (HTTP %s)", delay, request.url, response.status
        )
        slot = self._slot(request)
        previous = slot.delay if slot is not None else None
        if slot is not None:
            # The whole site waits, not just this URL; the delay is given back
            # afterwards unless something (AutoThrottle) changed it meanwhile.
            slot.delay = max(previous, min(delay, self.backoff_max))
        raised = slot.delay if slot is not None else None
        await asyncio.sleep(delay)
        if slot is not None and slot.delay == raised:
            slot.delay = previous
        return retry

    def _slot(self, request: Request):
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        if downloader is None:
            return None
        return downloader.slots.get(downloader.get_slot_key(request))


class OutletScopeMiddleware:
    """Only an outlet's own domains are fetched, redirects included.

    Scrapy's OffsiteMiddleware needs one allowed_domains list for the whole
    spider; outlets differ, and a redirect from one outlet to another outlet's
    site (or anywhere else) must be refused too.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        slug = request.meta.get("outlet")
        spider = self.crawler.spider
        outlets = getattr(spider, "outlets", None)
        if "@" in urlsplit(request.url).netloc:
            # A redirect may carry user:password@; we never send or keep credentials.
            return request.replace(url=strip_credentials(request.url))
        if slug is None or not outlets or request.meta.get("dont_obey_robotstxt"):
            return None
        outlet = next((o for o in outlets if o.slug == slug), None)
        if outlet is not None and not outlet.owns(request.url):
            origin = (request.meta.get("redirect_urls") or [request.url])[0]
            raise IgnoreRequest(f"off-site redirect to {request.url} (from {origin}) not followed")
        return None


class RobotsRfcMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 reads it: a server error means "disallow everything".

    Scrapy parses whatever body comes back, so a 503 error page would read as
    "no rules". An outlet whose robots.txt fails is not crawled this run.
    """

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            logger.warning(
                "robots.txt of %s answered HTTP %s: the site is treated as disallowed "
                "for this run (RFC 9309)",
                netloc,
                response.status,
            )
            response = response.replace(body=b"User-agent: *\nDisallow: /\n")
        elif response.status >= 400:
            response = response.replace(body=b"")  # no robots.txt: everything allowed
        await super()._parse_robots(response, netloc, request)
