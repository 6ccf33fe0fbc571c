"""The archive's single entry point: a raw page in, fetch and article rows out.

A live crawl, a re-extraction, a WARC import and a distributed writer all call
`Archive.ingest(page)`; only the source of the pages differs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from archive import monitor
from archive.dates import day_of
from archive.extract import Extracted, extract
from archive.page import RawPage
from archive.store import as_json_list, now_iso, open_db, upsert_outlets
from archive.urls import canonical_url, host_of, url_key
from archive.warc import WarcRef, WarcWriter

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


# Errors of the archive as a whole rather than of one page: no write can succeed
# until someone acts (free disk space, fix permissions, restore the file).
ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,  # "database or disk is full", "disk I/O error", locked
    sqlite3.InternalError,
    OSError,  # WARC capture: no space left on device, permissions
    MemoryError,
)


@dataclass
class Outcome:
    """What became of one page."""

    kind: str  # archived | duplicate | not-article | skipped | failed | recorded
    article_id: int | None = None
    reason: str | None = None


@dataclass
class RunCounts:
    discovered: int = 0
    fetched: int = 0
    archived: int = 0
    skipped: int = 0
    failed: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)


def text_hash(title: str | None, text: str) -> str:
    normalised = " ".join(f"{title or ''}\n{text}".split()).lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass
class Prepared:
    """A page after the CPU-bound half of ingest: judged, and extracted if an article."""

    page: RawPage
    outcome: Outcome | None = None  # set when nothing is to be stored as an article
    extracted: Extracted | None = None


def prepare(page: RawPage, outlet: Any = None) -> Prepared:
    """Judge and extract one page. Touches no database, so it can run in a worker process."""
    if page.role == "api" and page.status in (401, 403, 404, 410):
        # WordPress sites often disable or guard their REST API: feeds and sitemaps remain.
        return Prepared(
            page, Outcome("recorded", reason=f"HTTP {page.status}: WordPress API absent or blocked")
        )
    if page.error or page.status is None:
        return Prepared(page, Outcome("failed", reason=page.error or "no response"))
    if page.status == 304:
        return Prepared(page, Outcome("not-modified", reason="304 Not Modified"))
    if page.role == "recheck" and page.status in (404, 410):
        return Prepared(page, Outcome("removed", reason=f"HTTP {page.status} on re-check"))
    if page.status in (404, 410) and (page.role == "robots" or page.found_via == "guess"):
        # Not having a robots.txt or a sitemap at a guessed location is normal.
        return Prepared(page, Outcome("recorded", reason=f"HTTP {page.status}: none here"))
    if page.status >= 400:
        return Prepared(page, Outcome("failed", reason=f"HTTP {page.status}"))
    if page.role not in ("article", "recheck"):
        return Prepared(page, Outcome("recorded"))
    content_type = page.content_type.split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        return Prepared(page, Outcome("not-article", reason=f"content type {content_type}"))
    if looks_binary(page.body):
        return Prepared(page, Outcome("not-article", reason="binary content served as HTML"))
    extracted = extract(
        page.body,
        page.final_url or page.url,
        page.content_type,
        hint_title=page.hint_title,
        hint_published=page.hint_published,
        rules=getattr(outlet, "rules", None),
        expected_language=getattr(outlet, "language", None),
    )
    if not extracted.is_article:
        moved = page.final_url and page.final_url != page.url
        if page.role == "recheck" and moved:
            # An article that now redirects to a section or the homepage is gone.
            return Prepared(
                page,
                Outcome(
                    "removed", reason=f"now redirects to {page.final_url} ({extracted.reason})"
                ),
            )
        return Prepared(page, Outcome("not-article", reason=extracted.reason))
    return Prepared(page, extracted=extracted)


def looks_binary(body: bytes) -> bool:
    """Bytes no web page is made of: NULs or mostly control characters at the start."""
    head = body[:4096]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):  # empty, or UTF-16 text
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(head) > 0.1


def article_fields(ex: Extracted) -> dict[str, Any]:
    """The article row's columns that come from extraction."""
    return {
        "title": ex.title,
        "text": ex.text,
        "published": ex.published,
        "published_month": ex.published[:7] if ex.published else None,
        "published_source": ex.published_source,
        "modified": ex.modified,
        "authors": as_json_list(ex.authors),
        "credits": as_json_list(ex.credits),
        "description": ex.description,
        "sitename": ex.sitename,
        "categories": as_json_list(ex.categories),
        "tags": as_json_list(ex.tags),
        "image": ex.image,
        "language": ex.language,
        "language_source": ex.language_source,
        "word_count": ex.word_count,
        "hash": text_hash(ex.title, ex.text),
        "language_confidence": ex.language_confidence,
        "language_mismatch": int(ex.language_mismatch),
        "warnings": as_json_list(ex.warnings),
        "encoding": ex.encoding,
    }


class Archive:
    """One archive database, opened for writing."""

    def __init__(
        self,
        path: str | Path,
        outlets: Iterable[Any] = (),
        warc_root: str | Path | None = None,
    ):
        self.path = Path(path)
        self.db = open_db(self.path)
        self._insert_sql: dict[tuple, str] = {}
        outlets = list(outlets)
        self.outlets = {o.slug: o for o in outlets}
        if outlets:
            upsert_outlets(self.db, outlets)
        self.outcomes: Counter[str] = Counter()
        self.warc_root = Path(warc_root) if warc_root else None
        self.warc: WarcWriter | None = None

    # -- runs ---------------------------------------------------------------

    def start_run(self, outlets: list[str], since: date | None = None, kind: str = "crawl") -> int:
        table = self.db["runs"]
        # Runs still "running" were killed (a live one would hold the archive's lock).
        self.db.execute(
            "update runs set status = 'interrupted' where status = 'running'",
        )
        table.insert(
            {
                "kind": kind,
                "started": now_iso(),
                "status": "running",
                "outlets": json.dumps(outlets),
                "since": since.isoformat() if since else None,
                "pid": os.getpid(),
            }
        )
        run_id = table.last_pk
        if self.warc_root is not None:
            self.warc = WarcWriter(self.warc_root, run_id, outlets=list(self.outlets.values()))
        return run_id

    def finish_run(self, run_id: int, status: str, counts: RunCounts) -> None:
        self.db["runs"].update(
            run_id,
            {
                "finished": now_iso(),
                "status": status,
                "discovered": counts.discovered,
                "fetched": counts.fetched,
                "archived": counts.archived,
                "skipped": counts.skipped,
                "failed": counts.failed,
                "requests": counts.requests,
                "failures": json.dumps(counts.failures, ensure_ascii=False)
                if counts.failures
                else None,
            },
        )

    # -- lookups used by the crawler ---------------------------------------

    def article_id_for(self, url: str) -> int | None:
        row = self.db.execute(
            "select article_id from article_urls where url_key = ?", [url_key(url)]
        ).fetchone()
        return row[0] if row else None

    def is_known(self, url: str) -> bool:
        """Has an article already been archived under this URL (or a variant of it)?"""
        return self.article_id_for(url) is not None

    def touch(self, url: str, seen_at: str | None = None) -> None:
        """Record that a known article was listed again (feed, sitemap, section)."""
        article_id = self.article_id_for(url)
        if article_id is not None:
            self.db.execute(
                "update articles set last_seen = ? where id = ?", [seen_at or now_iso(), article_id]
            )

    # -- monitoring over time ----------------------------------------------

    def due_rechecks(self, outlet: str, mode: str = "due") -> list[dict[str, Any]]:
        """Articles of an outlet to fetch again now (mode: due, all or none)."""
        return monitor.due_rechecks(self.db, outlet, mode)

    def validators(self, url: str) -> dict[str, str]:
        """Conditional-request headers for a discovery page fetched before."""
        row = self._cached(url, "etag, last_modified")
        return monitor.conditional_headers(*row) if row else {}

    def known_body(self, url: str, body: bytes) -> bool:
        """Did this discovery page return exactly these bytes last time?"""
        row = self._cached(url, "body_hash")
        return bool(row) and row[0] == monitor.body_hash(body)

    def _cached(self, url: str, columns: str) -> tuple | None:
        """What a finished run read at this discovery page. A run that did not finish
        (killed, or stopped by a full disk) may not have archived the articles the page
        listed, so its reading must not make the next run skip the page."""
        return self.db.execute(
            f"select {columns} from http_cache where url = ? and (run_id is null or run_id in "
            "(select id from runs where status = 'finished'))",
            [url],
        ).fetchone()

    def last_crawl(self, outlets: list[str]) -> dict[str, Any] | None:
        """The most recent finished crawl of exactly these outlets (for request ratios)."""
        row = self.db.execute(
            "select id, started, requests from runs where kind = 'crawl' and status = 'finished' "
            "and outlets = ? order by id desc limit 1",
            [json.dumps(outlets)],
        ).fetchone()
        return {"id": row[0], "started": row[1], "requests": row[2]} if row else None

    def first_crawl(self, outlets: list[str]) -> dict[str, Any] | None:
        row = self.db.execute(
            "select id, started, requests from runs where kind = 'crawl' and status = 'finished' "
            "and outlets = ? order by id limit 1",
            [json.dumps(outlets)],
        ).fetchone()
        return {"id": row[0], "started": row[1], "requests": row[2]} if row else None

    def _remember_validators(self, page: RawPage, run_id: int | None) -> None:
        self.db["http_cache"].upsert(
            {
                "url": page.url,
                "etag": page.header("etag"),
                "last_modified": page.header("last-modified"),
                "body_hash": monitor.body_hash(page.body),
                "fetched_at": page.fetched_at,
                "run_id": run_id,
            },
            pk="url",
        )

    def _schedule(self, outlet: str) -> tuple:
        return getattr(self.outlets.get(outlet), "recheck", None) or monitor.DEFAULT_SCHEDULE

    def _store_recheck(self, page: RawPage, prepared: Prepared, ref: WarcRef | None) -> Outcome:
        """A re-check: a new version if the content changed, a removal if it is gone."""
        article_id = self.article_id_for(page.url)
        if article_id is None:
            return Outcome("failed", reason="re-check of an article not in the archive")
        if prepared.outcome is not None and prepared.outcome.kind == "failed":
            # A network failure says nothing about the article: try again next run.
            return Outcome("failed", article_id, prepared.outcome.reason)
        row = self.db.execute(
            "select first_seen, checks, outlet from articles where id = ?", [article_id]
        ).fetchone()
        first_seen, checks, outlet = row[0], (row[1] or 0) + 1, row[2]
        update: dict[str, Any] = {
            "checks": checks,
            "last_checked": page.fetched_at,
            "next_check": monitor.next_check(first_seen, checks, self._schedule(outlet)),
        }
        if page.status == 200:
            update["etag"] = page.header("etag")
            update["last_modified"] = page.header("last-modified")
        outcome = prepared.outcome
        if outcome is not None and outcome.kind == "removed":
            update.update(
                removed_at=page.fetched_at, removal_evidence=outcome.reason, next_check=None
            )
        elif outcome is None:
            outcome = self._new_version_if_changed(article_id, page, prepared.extracted, ref)
        outcome = Outcome(outcome.kind, article_id, outcome.reason)
        self.db["articles"].update(article_id, update)
        return outcome

    def _new_version_if_changed(
        self, article_id: int, page: RawPage, ex: Extracted, ref: WarcRef | None
    ) -> Outcome:
        version, title, text = self.db.execute(
            "select version, title, text from article_versions where article_id = ? "
            "order by version desc limit 1",
            [article_id],
        ).fetchone()
        if monitor.meaningful_hash(title, text) == monitor.meaningful_hash(ex.title, ex.text):
            return Outcome("unchanged", reason="no meaningful change")
        self._insert_version(article_id, version + 1, page.fetched_at, ex, ref)
        self.db["articles"].update(article_id, article_fields(ex))
        return Outcome("changed", reason=f"version {version + 1}")

    # -- the entry point ----------------------------------------------------

    def ingest(
        self,
        page: RawPage,
        run_id: int | None = None,
        since: date | None = None,
        capture: bool = True,
    ) -> Outcome:
        """Record one fetch and, for an article page, extract and store the article."""
        return self.store(prepare(page, self.outlets.get(page.outlet)), run_id, since, capture)

    def store(
        self,
        prepared: Prepared,
        run_id: int | None = None,
        since: date | None = None,
        capture: bool = True,
        warc_ref: WarcRef | None = None,
        reextract: bool = False,
    ) -> Outcome:
        """The writing half of ingest: raw capture, fetch row, article and its version."""
        page = prepared.page
        if warc_ref is None and capture and self.warc is not None:
            warc_ref = self.warc.write(page)
        with self.db.atomic():
            if page.role == "recheck":
                outcome = self._store_recheck(page, prepared, warc_ref)
            else:
                outcome = prepared.outcome or self._store_article(
                    page, prepared.extracted, since, warc_ref, reextract, run_id
                )
                if page.status == 200 and page.role in monitor.DISCOVERY_ROLES:
                    self._remember_validators(page, run_id)
            if not reextract:
                self._record_fetch(page, run_id, outcome, warc_ref)
        self.outcomes[outcome.kind] += 1
        return outcome

    def store_many(
        self,
        batch: Iterable[Prepared],
        run_id: int | None = None,
        since: date | None = None,
        capture: bool = True,
    ) -> list[Outcome | None]:
        """Store many prepared pages in one transaction: how pool results are written.

        Each page goes through `store`, in its own savepoint, so a batch writes
        exactly what the same pages stored one by one would. One commit per batch
        instead of per page is what makes writing cheap next to extraction. A page
        that cannot be stored is logged and left out (None in the result), as a
        failed `ingest` would be, without losing the rest of its batch. An error of
        the archive itself (disk full, I/O error, a locked or damaged database: see
        ARCHIVE_ERRORS) rolls the whole batch back and is raised: no later page
        could be written either.
        """
        outcomes: list[Outcome | None] = []
        with self.db.atomic():
            for prepared in batch:
                try:
                    outcomes.append(self.store(prepared, run_id, since, capture))
                except ARCHIVE_ERRORS:
                    raise
                except Exception:
                    logger.exception("Could not store %s", prepared.page.url)
                    outcomes.append(None)
        return outcomes

    def _store_article(
        self,
        page: RawPage,
        extracted: Extracted,
        since: date | None,
        ref: WarcRef | None,
        reextract: bool,
        run_id: int | None = None,
    ) -> Outcome:
        canonical = self._canonical(page, extracted)
        published_day = day_of(extracted.published)
        if since and published_day and published_day < since:
            return Outcome("skipped", reason=f"published {published_day} before {since}")
        variants = [canonical, page.url, page.final_url or page.url]
        existing = self._existing_article(canonical, variants)
        if existing is not None:
            self._remember_urls(existing, variants)
            if reextract and ref is not None:
                return self._reextracted(existing, extracted, ref)
            self.db.execute(
                "update articles set last_seen = ? where id = ?", [page.fetched_at, existing]
            )
            return Outcome("duplicate", existing, reason="already archived")
        fields = article_fields(extracted)
        article_id = self._insert_article(page, canonical, fields, run_id)
        self._remember_urls(article_id, variants)
        self._insert_version(article_id, 1, page.fetched_at, extracted, ref, fields["hash"])
        return Outcome("archived", article_id)

    def _existing_article(self, canonical: str, variants: list[str]) -> int | None:
        found = next(filter(None, (self.article_id_for(u) for u in variants)), None)
        if found is None:
            row = self.db.execute("select id from articles where url = ?", [canonical]).fetchone()
            found = row[0] if row else None
        return found

    def _insert_version(
        self,
        article_id: int,
        version: int,
        fetched_at: str,
        ex: Extracted,
        ref: WarcRef | None,
        hash_: str | None = None,
    ) -> None:
        self._insert_row(
            "article_versions",
            {
                "article_id": article_id,
                "version": version,
                "fetched_at": fetched_at,
                "title": ex.title,
                "text": ex.text,
                "hash": hash_ or text_hash(ex.title, ex.text),
                "warc_file": ref.file if ref else None,
                "warc_offset": ref.offset if ref else None,
                "warc_length": ref.length if ref else None,
            },
        )

    def _reextracted(self, article_id: int, ex: Extracted, ref: WarcRef) -> Outcome:
        """Apply a new extraction of a stored raw page to the version it belongs to."""
        row = self.db.execute(
            "select version, hash from article_versions where article_id = ? "
            "and warc_file = ? and warc_offset = ?",
            [article_id, ref.file, ref.offset],
        ).fetchone()
        if row is None:
            return Outcome("duplicate", article_id, reason="raw page of no stored version")
        version, old_hash = row
        new_hash = text_hash(ex.title, ex.text)
        self.db.execute(
            "update article_versions set title = ?, text = ?, hash = ? "
            "where article_id = ? and version = ?",
            [ex.title, ex.text, new_hash, article_id, version],
        )
        (latest,) = self.db.execute(
            "select max(version) from article_versions where article_id = ?", [article_id]
        ).fetchone()
        if version == latest:
            self.db["articles"].update(article_id, article_fields(ex))
        kind = "unchanged" if new_hash == old_hash else "reextracted"
        return Outcome(kind, article_id)

    def _canonical(self, page: RawPage, extracted: Extracted) -> str:
        page_url = page.final_url or page.url
        fallback = canonical_url(page_url) or page_url
        if extracted.canonical:
            declared = canonical_url(extracted.canonical, base=page_url)
            # A canonical link pointing off-site is a mistake or a trick; keep ours.
            if declared and host_of(declared) == host_of(fallback):
                return declared
        return fallback

    def _insert_article(
        self, page: RawPage, url: str, fields: dict[str, Any], run_id: int | None = None
    ) -> int:
        return self._insert_row(
            "articles",
            {
                "url": url,
                "outlet": page.outlet,
                **fields,
                "found_via": page.found_via,
                "first_seen": page.fetched_at,
                "last_seen": page.fetched_at,
                "run_id": run_id,
                "checks": 0,
                "next_check": monitor.next_check(page.fetched_at, 0, self._schedule(page.outlet)),
                "etag": page.header("etag"),
                "last_modified": page.header("last-modified"),
            },
        )

    def _insert_row(self, table: str, row: dict[str, Any], or_ignore: bool = False) -> int:
        """Insert one row of a table whose schema ensure_schema made; returns its rowid.

        Plain SQL rather than sqlite-utils' `insert`, which checks the table's existence
        and columns on every call: a third of the write path's time, per row, for
        tables known to exist with known columns.
        """
        columns = tuple(row)
        sql = self._insert_sql.get((table, columns, or_ignore))
        if sql is None:
            sql = (
                f"insert {'or ignore ' if or_ignore else ''}into [{table}] "
                f"({', '.join(f'[{c}]' for c in columns)}) "
                f"values ({', '.join('?' for _ in columns)})"
            )
            self._insert_sql[(table, columns, or_ignore)] = sql
        return self.db.conn.execute(sql, list(row.values())).lastrowid

    def _remember_urls(self, article_id: int, urls: Iterable[str]) -> None:
        keys = {}
        for url in urls:
            canonical = canonical_url(url) or url
            keys[url_key(canonical)] = canonical
        for key, canonical in keys.items():
            self._insert_row(
                "article_urls",
                {"url_key": key, "url": canonical, "article_id": article_id},
                or_ignore=True,
            )

    def _record_fetch(
        self, page: RawPage, run_id: int | None, outcome: Outcome, ref: WarcRef | None
    ) -> None:
        self._insert_row(
            "fetches",
            {
                "run_id": run_id,
                "url": page.url,
                "final_url": page.final_url if page.final_url != page.url else None,
                "outlet": page.outlet,
                "role": page.role,
                "found_via": page.found_via or None,
                "status": page.status,
                "fetched_at": page.fetched_at,
                "bytes": len(page.body) if page.body else 0,
                "elapsed_ms": page.elapsed_ms,
                "content_type": page.content_type or None,
                "outcome": outcome.kind,
                "error": outcome.reason
                if outcome.kind in {"failed", "not-article", "skipped", "removed"}
                else None,
                "article_id": outcome.article_id,
                "warc_file": ref.file if ref else None,
                "warc_offset": ref.offset if ref else None,
            },
        )

    def close(self) -> None:
        if self.warc is not None:
            self.warc.close()
        self.db.conn.close()
