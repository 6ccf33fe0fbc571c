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

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.response import response_status_message

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
        self._slow_down_slot(request, delay)
        logger.info(
            "Waiting %.1f s before retrying %s (HTTP %s)", delay, request.url, response.status
        )
        await asyncio.sleep(delay)
        return retry

    def _slow_down_slot(self, request: Request, delay: float) -> None:
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        if downloader is None:
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = max(slot.delay, min(delay, self.backoff_max))
