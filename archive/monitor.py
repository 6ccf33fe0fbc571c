"""Monitoring over time: when to look at an article again, and what counts as a change.

Outlets edit articles after publication, mostly in the first hours, and remove
some quietly. An article is re-checked on a schedule counted from when it was
first archived (default 1 h, 6 h, 24 h, 3 days, 7 days), with conditional
requests so that an unchanged page costs a 304 and no transfer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

DEFAULT_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
)
DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
RECHECK_MODES = ("due", "all", "none")
# Pages that list articles; fetched conditionally once a crawl of them has finished.
DISCOVERY_ROLES = ("homepage", "feed", "sitemap", "hub")

# Lines an outlet rewrites without changing the story: datelines and update stamps.
DATELINE = re.compile(
    r"^\s*(mis à jour|mise à jour|publié|updated|last updated|modifié)\b.*$"
    r"|^\s*[A-ZÀ-Ý][\w' -]{1,40}\s*\((?:AA|AFP|Reuters|AP|TRT)\)\s*[-–—:]\s*",
    re.IGNORECASE | re.MULTILINE,
)


def parse_duration(text: str) -> timedelta:
    """ "1h", "6 h", "3d", "2w", "30m" → timedelta; ValueError otherwise."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 1h, 6h, 3d or 1w")
    return timedelta(**{UNITS[match.group(2).lower()]: int(match.group(1))})


def next_check(first_seen: str, checks_done: int, schedule: tuple[timedelta, ...]) -> str | None:
    """When the next re-check is due, or None once the schedule is exhausted."""
    if checks_done >= len(schedule):
        return None
    start = datetime.fromisoformat(first_seen)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (start + schedule[checks_done]).astimezone(UTC).isoformat(timespec="seconds")


def meaningful_text(title: str | None, text: str | None) -> str:
    """Title and text reduced to what a reader would call the content.

    Whitespace, punctuation, letter case, typographic variants and datelines
    are not changes: outlets' CMSs rewrite them on every save.
    """
    combined = DATELINE.sub("", f"{title or ''}\n{text or ''}")
    combined = unicodedata.normalize("NFKC", combined).lower()
    words = re.findall(r"\w+", combined)
    return " ".join(words)


def meaningful_hash(title: str | None, text: str | None) -> str:
    return hashlib.sha256(meaningful_text(title, text).encode()).hexdigest()


def due_rechecks(
    db: sqlite_utils.Database, outlet: str, mode: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Archived articles of an outlet to fetch again in this run."""
    if mode == "none":
        return []
    where = "outlet = ? and removed_at is null"
    params: list[Any] = [outlet]
    if mode == "due":
        where += " and next_check is not null and next_check <= ?"
        params.append((now or datetime.now(UTC)).isoformat(timespec="seconds"))
    rows = db.execute(
        f"select id, url, etag, last_modified from articles where {where} order by id", params
    ).fetchall()
    return [{"id": r[0], "url": r[1], "etag": r[2], "last_modified": r[3]} for r in rows]


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
