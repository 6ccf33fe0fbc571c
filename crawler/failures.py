"""Failures in words a user can act on, instead of tracebacks."""

from __future__ import annotations

import logging

from scrapy import exceptions as scrapy_errors
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from archive.store import disk_full
from archive.urls import strip_credentials

# Expected network failures: an outlet being down is news for the run summary,
# not a bug, so these are reported in one line without a traceback.
NETWORK_ERRORS: list[tuple[type[BaseException], str]] = [
    (scrapy_errors.CannotResolveHostError, "DNS lookup failed (no such host)"),
    (net.DNSLookupError, "DNS lookup failed (no such host)"),
    (scrapy_errors.DownloadConnectionRefusedError, "connection refused"),
    (net.ConnectionRefusedError, "connection refused"),
    (scrapy_errors.DownloadTimeoutError, "timed out"),
    (net.TimeoutError, "timed out"),
    (net.TCPTimedOutError, "TCP connection timed out"),
    (scrapy_errors.DownloadCancelledError, "download cancelled"),
    (scrapy_errors.ResponseDataLossError, "response cut short"),
    (scrapy_errors.DownloadFailedError, "download failed"),
    (scrapy_errors.UnsupportedURLSchemeError, "unsupported URL scheme"),
    (net.ConnectError, "could not connect"),
    (net.ConnectionLost, "connection lost"),
    (ResponseNeverReceived, "no response received"),
    (ResponseFailed, "response failed"),
]
EXPECTED = tuple(kind for kind, _ in NETWORK_ERRORS)


def describe_exception(exc: BaseException) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    for kind, message in NETWORK_ERRORS:
        if isinstance(exc, kind):
            detail = str(exc).strip().rstrip(".")
            return f"{message} ({detail})" if detail else message
    if isinstance(exc, scrapy_errors.IgnoreRequest):
        return str(exc) or "ignored"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe_failure(failure: Failure) -> str:
    """One line saying why a request failed."""
    return describe_exception(failure.value)


class NoTracebackForNetworkErrors(logging.Filter):
    """Drop the traceback Scrapy attaches to logs of expected failures: the network, or a
    full disk (reported once, clearly, by the crawl's summary)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and disk_full(exc):
            record.msg = f"{record.msg} [disk full: {exc}]"
            record.exc_info = None
            record.exc_text = None
        elif exc is not None and isinstance(exc, EXPECTED):
            record.msg = f"{record.msg} [{describe_exception(exc)}]"
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_network_tracebacks() -> None:
    for name in (
        "scrapy.downloadermiddlewares.robotstxt",
        "scrapy.core.scraper",
        "scrapy.core.engine",
        "scrapy.core.scheduler",
        "scrapy.utils.signal",
        "crawler.pipelines",
        "asyncio",
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoTracebackForNetworkErrors) for f in logger.filters):
            logger.addFilter(NoTracebackForNetworkErrors())


class RedactCredentials(logging.Filter):
    """No user:password@ from a URL ever reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message:
            cleaned = strip_credentials(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install_log_filters() -> None:
    """Filters on every handler Scrapy installed, so they see every logger's records."""
    quiet_network_tracebacks()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactCredentials) for f in handler.filters):
            handler.addFilter(RedactCredentials())
