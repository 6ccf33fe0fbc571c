"""The SQLite archive: schema, and the few writes everything else goes through.

Written with sqlite-utils. WAL mode lets Datasette read while a crawl writes.
The schema is the contract of DESIGN.md; columns are only ever added.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

FTS_TOKENIZE = "unicode61 remove_diacritics 2"
# Prefix indexes for `négoci*`-style searches: without one, FTS5 merges the doclists of
# every term a prefix expands to before any LIMIT applies (seconds on a big archive).
# FTS5 uses a prefix index only for prefixes of exactly its length, so each common
# length a user types gets one; longer prefixes expand to few terms and stay fast.
FTS_PREFIX = "3 4 5 6"
FTS_COLUMNS = ("title", "text")

ARTICLE_COLUMNS: dict[str, Any] = {
    "id": int,
    "url": str,
    "outlet": str,
    "title": str,
    "text": str,
    "published": str,
    "published_month": str,
    "published_source": str,
    "modified": str,
    "authors": str,
    "credits": str,
    "description": str,
    "sitename": str,
    "categories": str,
    "tags": str,
    "image": str,
    "language": str,
    "language_source": str,
    "word_count": int,
    "hash": str,
    "found_via": str,
    "first_seen": str,
    "last_seen": str,
    "run_id": int,
    # Monitoring over time (archive.monitor): re-check schedule and removals.
    "checks": int,
    "next_check": str,
    "last_checked": str,
    "etag": str,
    "last_modified": str,
    "removed_at": str,
    "removal_evidence": str,
    # Extraction quality signals (appended: existing archives get them on open).
    "language_confidence": float,
    "language_mismatch": int,
    "warnings": str,
    "encoding": str,
    # Syndication (archive.stories): articles of one story share it; NULL when alone.
    "story_id": int,
}

FETCH_COLUMNS: dict[str, Any] = {
    "id": int,
    "run_id": int,
    "url": str,
    "final_url": str,
    "outlet": str,
    "role": str,
    "found_via": str,
    "status": int,
    "fetched_at": str,
    "bytes": int,
    "elapsed_ms": int,
    "content_type": str,
    "outcome": str,
    "error": str,
    "article_id": int,
    "warc_file": str,
    "warc_offset": int,
}

VERSION_COLUMNS: dict[str, Any] = {
    "id": int,
    "article_id": int,
    "version": int,
    "fetched_at": str,
    "title": str,
    "text": str,
    "hash": str,
    "warc_file": str,
    "warc_offset": int,
    "warc_length": int,
}

RUN_COLUMNS: dict[str, Any] = {
    "id": int,
    "kind": str,
    "started": str,
    "finished": str,
    "status": str,
    "outlets": str,
    "since": str,
    "discovered": int,
    "fetched": int,
    "archived": int,
    "skipped": int,
    "failed": int,
    "requests": int,
    "failures": str,
    "pid": int,
}

HTTP_CACHE_COLUMNS: dict[str, Any] = {
    "url": str,
    "etag": str,
    "last_modified": str,
    "body_hash": str,
    "fetched_at": str,
    "run_id": int,
}


def disk_full(exc: BaseException | None) -> bool:
    """A full disk, whichever layer noticed it (the OS, or SQLite), also when another
    error was raised from it."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        return True
    return exc is not None and exc.__cause__ is not None and disk_full(exc.__cause__)


class ArchiveUnusable(RuntimeError):
    """The archive file cannot be opened or written (corrupt, unwritable, full disk)."""


def check_archive(path: str | Path) -> None:
    """Open the archive once, creating it if needed; a clear ArchiveUnusable if that fails.

    Nothing is written to a file that is not an archive: the first read of a
    corrupt file fails before any write.
    """
    try:
        db = open_db(path)
        db.execute("select count(*) from articles").fetchone()
        db.conn.close()
    except sqlite3.DatabaseError as exc:
        raise ArchiveUnusable(f"cannot use the archive {path}: {exc}") from None
    except OSError as exc:
        parent = Path(path).parent
        reason = (
            f"{parent} is not a folder"
            if parent.exists() and not parent.is_dir()
            else exc.strerror or str(exc)
        )
        raise ArchiveUnusable(f"cannot create the archive {path}: {reason}") from None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) an archive database with its schema in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    ensure_schema(db)
    return db


def ensure_schema(db: sqlite_utils.Database) -> None:
    db["outlets"].create(
        {
            "slug": str,
            "name": str,
            "homepage": str,
            "language": str,
            "country": str,
            "domains": str,
        },
        pk="slug",
        if_not_exists=True,
    )
    db["runs"].create(RUN_COLUMNS, pk="id", if_not_exists=True)
    _add_missing_columns(db["runs"], RUN_COLUMNS)
    articles = db["articles"]
    if not articles.exists():
        articles.create(
            ARTICLE_COLUMNS,
            pk="id",
            not_null={"url", "outlet"},
            foreign_keys=[("outlet", "outlets", "slug")],
        )
        articles.create_index(["url"], unique=True)
        articles.create_index(["outlet", "published"])
        articles.create_index(["published"])
        articles.create_index(["first_seen"])
        create_fts(db)
    else:
        _add_missing_columns(articles, ARTICLE_COLUMNS)
        _update_fts_triggers(db)
    urls = db["article_urls"]
    if not urls.exists():
        # Every URL an article was met under (feed link, AMP, tracking variants,
        # rel=canonical): the key that stops a second fetch of the same article.
        urls.create(
            {"url_key": str, "url": str, "article_id": int},
            pk="url_key",
            foreign_keys=[("article_id", "articles", "id")],
        )
        urls.create_index(["article_id"])
    if "next_check" in db["articles"].columns_dict and not any(
        index.columns == ["next_check"] for index in db["articles"].indexes
    ):
        db["articles"].create_index(["next_check"], if_not_exists=True)
    # Validators of discovery pages (feeds, sitemaps, sections) for conditional requests,
    # trusted only once the run that read them finished (see Archive.validators).
    http_cache = db["http_cache"]
    if not http_cache.exists():
        http_cache.create(HTTP_CACHE_COLUMNS, pk="url")
    else:
        _add_missing_columns(http_cache, HTTP_CACHE_COLUMNS)
    versions = db["article_versions"]
    if not versions.exists():
        # Version 1 is the article as first archived; later versions come from re-checks.
        versions.create(VERSION_COLUMNS, pk="id", foreign_keys=[("article_id", "articles", "id")])
        versions.create_index(["article_id", "version"], unique=True)
        versions.create_index(["warc_file", "warc_offset"])
    else:
        _add_missing_columns(versions, VERSION_COLUMNS)
    fetches = db["fetches"]
    if not fetches.exists():
        fetches.create(FETCH_COLUMNS, pk="id", foreign_keys=[("run_id", "runs", "id")])
        fetches.create_index(["run_id"])
        fetches.create_index(["url"])
        fetches.create_index(["outlet", "fetched_at"])
    else:
        _add_missing_columns(fetches, FETCH_COLUMNS)
    # Tables and views of the monitoring modules, kept beside the code that uses them
    # (imported here because they import this module).
    from archive import alerts, counts, health, stories

    counts.ensure_schema(db)
    stories.ensure_schema(db)
    alerts.ensure_schema(db)
    health.ensure_view(db)


def create_fts(db: sqlite_utils.Database) -> None:
    """The articles' FTS5 index (external content) and the triggers that keep it in sync.

    Written out rather than through `Table.enable_fts` for two options it lacks: the
    prefix indexes, and an update trigger that fires only when the title or text
    changes — re-checks, story grouping and removals update other columns of
    thousands of rows, and must not rewrite their index entries each time.
    sqlite-utils and Datasette still detect it (`content=[articles]`).
    """
    db.execute(
        f"""CREATE VIRTUAL TABLE [articles_fts] USING FTS5 (
    {", ".join(f"[{c}]" for c in FTS_COLUMNS)},
    tokenize='{FTS_TOKENIZE}',
    prefix='{FTS_PREFIX}',
    content=[articles]
)"""
    )
    _update_fts_triggers(db)


def _fts_triggers() -> dict[str, str]:
    cols = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
    new = ", ".join(f"new.[{c}]" for c in FTS_COLUMNS)
    old = ", ".join(f"old.[{c}]" for c in FTS_COLUMNS)
    delete = (
        f"INSERT INTO [articles_fts] ([articles_fts], rowid, {cols}) "
        f"VALUES('delete', old.rowid, {old});"
    )
    insert = f"INSERT INTO [articles_fts] (rowid, {cols}) VALUES (new.rowid, {new});"
    head = "CREATE TRIGGER [articles_{}] AFTER {} ON [articles] BEGIN\n  "
    return {
        "articles_ai": head.format("ai", "INSERT") + insert + "\nEND",
        "articles_ad": head.format("ad", "DELETE") + delete + "\nEND",
        "articles_au": head.format("au", f"UPDATE OF {cols}") + f"{delete}\n  {insert}\nEND",
    }


def _update_fts_triggers(db: sqlite_utils.Database) -> None:
    """Create the FTS triggers, replacing older versions of them (archives made before)."""
    current = dict(
        db.execute("select name, sql from sqlite_master where type = 'trigger'").fetchall()
    )
    wanted = _fts_triggers()
    if all(current.get(name) == sql for name, sql in wanted.items()):
        return
    with db.conn:
        for name, sql in wanted.items():
            if current.get(name) != sql:
                db.execute(f"DROP TRIGGER IF EXISTS [{name}]")
                db.execute(sql)


def rebuild_fts(db: sqlite_utils.Database) -> None:
    """Recreate the FTS index with this version's options (prefix indexes) and refill it."""
    with db.conn:
        db.execute("DROP TABLE IF EXISTS [articles_fts]")
        create_fts(db)
        db.execute("INSERT INTO [articles_fts] ([articles_fts]) VALUES ('rebuild')")


def _add_missing_columns(table: sqlite_utils.db.Table, columns: dict[str, Any]) -> None:
    existing = set(table.columns_dict)
    for name, kind in columns.items():
        if name not in existing:
            table.add_column(name, kind)


def outlet_row(outlet: Any) -> dict[str, Any]:
    """An outlet (archive.seeds.Outlet) as the `outlets` table holds it."""
    return {
        "slug": outlet.slug,
        "name": outlet.name,
        "homepage": outlet.homepage,
        "language": outlet.language,
        "country": outlet.country,
        "domains": json.dumps(list(outlet.all_domains)),
    }


def upsert_outlets(db: sqlite_utils.Database, outlets: Iterable[Any]) -> None:
    db["outlets"].upsert_all((outlet_row(o) for o in outlets), pk="slug")


def as_json_list(values: Iterable[str]) -> str | None:
    values = [v for v in values if v]
    return json.dumps(values, ensure_ascii=False) if values else None
