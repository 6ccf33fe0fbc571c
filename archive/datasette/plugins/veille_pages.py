"""Datasette plugin: the archive's own pages in Datasette's look.

- the home page (`/` and `/DB`): outlets with their article counts, latest article,
  last crawl and health, a search box and the saved alerts;
- the article page (`/DB/articles/ID`): the article as a reader wants it, with its
  versions and their differences, removal and the same story elsewhere when the
  archive records them (checked at request time, so older archives work too);
- security headers on every response, and links to search and charts in the menu;
- Datasette's table counts made cheap enough for these pages on an archive of a million
  articles (see `startup`; its permission checks: veille_permissions).

Everything an archived page contains is text: templates autoescape it, and the little
HTML built here (paragraphs, diffs) escapes every piece before marking it up.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import sqlite3
import time
import tomllib
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import escape_sqlite, sqlite_timelimit, tilde_decode
from markupsafe import Markup, escape

HOME_TIME_LIMIT_MS = 2000
# The outlet_health view reads the clock (silent outlets, articles of the last day).
HEALTH_MAX_AGE_S = 60
MAX_VERSIONS = 50
DIFF_CONTEXT = 12  # words of unchanged text kept around each change

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", b"object-src 'none'; base-uri 'self'; form-action 'self'"),
]


# -- small helpers ---------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """The URL if a browser may follow it from our pages (http or https), else None."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def json_list(value) -> list[str]:
    if not value:
        return []
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    if not isinstance(items, list):
        return [str(items)]
    return [str(item) for item in items if item not in (None, "")]


def paragraphs(text: str | None) -> list[str]:
    """The clean text as the reader's paragraphs (one per line of the extracted text)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str | None, new: str | None, context: int = DIFF_CONTEXT) -> dict:
    """A word-level diff of two texts as escaped HTML with <ins>/<del>, and counts.

    Long unchanged stretches are shortened to `context` words on each side of a change.
    """
    a = _TOKENS.findall(old or "")
    b = _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    parts: list[str] = []
    added = removed = 0

    def words(tokens: list[str]) -> str:
        return str(escape("".join(tokens)))

    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            chunk = a[i1:i2]
            keep = context * 2  # tokens alternate word / space
            first, last = index == 0, index == len(opcodes) - 1
            if len(chunk) > keep * 2 + 1 and not (first and last):
                head = [] if first else chunk[:keep]
                tail = [] if last else chunk[-keep:]
                parts.append(words(head) + '<span class="veille-skip">[…]</span>' + words(tail))
            else:
                parts.append(words(chunk))
            continue
        if tag in ("delete", "replace"):
            removed += sum(1 for t in a[i1:i2] if not t.isspace())
            parts.append(f"<del>{words(a[i1:i2])}</del>")
        if tag in ("insert", "replace"):
            added += sum(1 for t in b[j1:j2] if not t.isspace())
            parts.append(f"<ins>{words(b[j1:j2])}</ins>")
    return {"html": Markup("".join(parts)), "added": added, "removed": removed}


async def _rows(db, sql: str, params=(), limit_ms: int | None = None) -> list | None:
    try:
        result = await db.execute(sql, params, custom_time_limit=limit_ms)
    except (sqlite3.Error, QueryInterrupted):
        return None
    return [dict(row) for row in result.rows]


# -- home ------------------------------------------------------------------------------


def load_alerts(path: str | None) -> list[dict]:
    """Saved alerts ([[alert]] tables with a name, a query and optionally `outlets`, a
    list of slugs, or `outlet`, one) from the alerts file.

    Lenient on purpose: the published archive runs without the veille package, so
    `python -m archive alerts --check` (archive.alerts) is where the file is validated.
    """
    if not path:
        return []
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    alerts = []
    for raw in data.get("alert") or data.get("alerts") or []:
        if not isinstance(raw, dict):
            continue
        query = raw.get("query") or raw.get("q") or ""
        if not isinstance(query, str) or not query.strip():
            continue
        outlets = raw.get("outlets") or raw.get("outlet") or []
        if isinstance(outlets, str):
            outlets = [outlets]
        outlets = [slug for slug in outlets if isinstance(slug, str) and slug.strip()]
        alerts.append(
            {
                "name": str(raw.get("name") or raw.get("slug") or query),
                "query": query,
                "outlets": outlets,
                # For display: the outlets the alert is limited to.
                "outlet": ", ".join(outlets),
            }
        )
    return alerts


def alert_links(base: str, alert: dict) -> dict:
    """An alert's search page and Atom feed. The `search` and `feed` queries filter one
    outlet; an alert on several uses the `alert` and `alert_feed` queries (metadata.yml)."""
    outlets = alert.get("outlets") or []
    if len(outlets) > 1:
        args = urlencode({"q": alert["query"], "outlets": ",".join(outlets)})
        return {"search_url": f"{base}/alert?{args}", "feed_url": f"{base}/alert_feed.atom?{args}"}
    args = urlencode({"q": alert["query"], **({"outlet": outlets[0]} if outlets else {})})
    return {"search_url": f"{base}/search?{args}", "feed_url": f"{base}/feed.atom?{args}"}


def health(fetch_counts: list[dict], run: dict | None) -> tuple[str, str]:
    """(status, explanation) of an outlet from its fetches in its latest crawl."""
    if not fetch_counts:
        return "unknown", "never crawled"
    if run and run.get("status") == "running":
        return "running", "a crawl is running"
    total = sum(row["n"] for row in fetch_counts)
    failed = sum(row["n"] for row in fetch_counts if row["outcome"] == "failed")
    homepage_failed = any(
        row["role"] == "homepage" and row["outcome"] == "failed" for row in fetch_counts
    )
    if homepage_failed or (total and failed == total):
        return "down", "unreachable in the last crawl"
    if failed:
        return "degraded", f"{failed} of {total} fetches failed in the last crawl"
    return "ok", f"{total} fetches, none failed"


# Each outlet's newest article and last fetch, for all outlets in one query each: the
# subquery walks the (outlet, published) or (outlet, fetched_at) index from its end.
LATEST_ARTICLES_SQL = """
select slugs.value as outlet, articles.id, articles.title, articles.published
from json_each(:slugs) as slugs
join articles on articles.id = (
  select id from articles where outlet = slugs.value order by published desc limit 1)
"""
LAST_FETCHES_SQL = """
select slugs.value as outlet, fetches.run_id, fetches.fetched_at
from json_each(:slugs) as slugs
join fetches on fetches.id = (
  select id from fetches where outlet = slugs.value order by fetched_at desc limit 1)
"""
# Kept current by triggers (archive/counts.py); an archive written before them has no
# such table and is counted the slow way.
COUNTS_SQL = "select outlet, articles from outlet_counts where articles > 0"
GROUPED_COUNTS_SQL = "select outlet, count(*) as articles from articles group by outlet"


def by_outlet(rows: list[dict] | None) -> dict[str, dict]:
    return {row["outlet"]: row for row in rows or []}


async def fetch_counts(db, last_fetch: dict | None, slug: str) -> list[dict]:
    """Fetches of the outlet's last crawl by role and outcome, for `health` on archives
    without the outlet_health view."""
    if not last_fetch:
        return []
    found = await _rows(
        db,
        "select role, outcome, count(*) as n from fetches "
        "where run_id is ? and outlet = ? group by role, outcome",
        [last_fetch["run_id"], slug],
        limit_ms=HOME_TIME_LIMIT_MS,
    )
    return found or []


# Answers of the outlet_health view per connection: (connection, data version, when, rows).
_health_cache: dict[int, tuple[sqlite3.Connection, int, float, list[dict]]] = {}


def judged_outlets(conn: sqlite3.Connection) -> list[dict] | None:
    """Status and reason of each outlet from the outlet_health view, read again only once
    the archive has changed or HEALTH_MAX_AGE_S have passed.

    The view reads every fetch of each outlet's last crawl: tens of milliseconds for a
    crawl of 20,000 pages, on a page read far more often than the archive is written.
    `PRAGMA data_version` changes when any other connection, in any process, commits.
    """
    try:
        version = conn.execute("pragma data_version").fetchone()[0]
        now = time.monotonic()
        cached = _health_cache.get(id(conn))
        if cached and cached[:2] == (conn, version) and now - cached[2] < HEALTH_MAX_AGE_S:
            return cached[3]
        with sqlite_timelimit(conn, HOME_TIME_LIMIT_MS):
            found = conn.execute("select outlet, status, reason from outlet_health").fetchall()
    except sqlite3.Error:
        return None
    rows = [
        {"outlet": outlet, "status": status, "reason": reason} for outlet, status, reason in found
    ]
    _health_cache[id(conn)] = (conn, version, now, rows)
    return rows


async def home_data(datasette, database: str) -> dict | None:
    db = datasette.get_database(database)
    tables = set(await db.table_names())
    if not {"articles", "outlets"} <= tables:
        return None
    limit = HOME_TIME_LIMIT_MS
    outlets = await _rows(db, "select * from outlets order by name, slug", limit_ms=limit) or []
    counts_sql = COUNTS_SQL if "outlet_counts" in tables else GROUPED_COUNTS_SQL
    counts = by_outlet(await _rows(db, counts_sql, limit_ms=limit))
    has_fetches = "fetches" in tables
    has_runs = "runs" in tables
    # The outlet_health view (archive/health.py) judges each outlet as `python -m archive
    # health` does, silent outlets included; an archive written by older code lacks it.
    judged = {}
    if "outlet_health" in await db.view_names():
        judged = by_outlet(await db.execute_fn(judged_outlets))
    known = {outlet["slug"] for outlet in outlets}
    # Articles of an outlet no longer in the outlets table still deserve a line.
    outlets += [{"slug": slug, "name": slug} for slug in sorted(set(counts) - known)]
    slugs = {"slugs": json.dumps([outlet["slug"] for outlet in outlets])}
    latest = by_outlet(await _rows(db, LATEST_ARTICLES_SQL, slugs, limit_ms=limit))
    last_fetches = (
        by_outlet(await _rows(db, LAST_FETCHES_SQL, slugs, limit_ms=limit)) if has_fetches else {}
    )
    runs = {}
    run_ids = {row["run_id"] for row in last_fetches.values() if row["run_id"] is not None}
    if has_runs and run_ids:
        found = await _rows(
            db,
            "select * from runs where id in (select value from json_each(:ids))",
            {"ids": json.dumps(sorted(run_ids))},
            limit_ms=limit,
        )
        runs = {row["id"]: row for row in found or []}
    rows = []
    for outlet in outlets:
        slug = outlet["slug"]
        count = counts.get(slug, {})
        last_fetch = last_fetches.get(slug)
        run = runs.get((last_fetch or {}).get("run_id"))
        if slug in judged:
            status, explanation = judged[slug]["status"], judged[slug]["reason"]
        else:
            status, explanation = health(await fetch_counts(db, last_fetch, slug), run)
        article = latest.get(slug)
        rows.append(
            {
                "slug": slug,
                "name": outlet.get("name") or slug,
                "homepage": safe_url(outlet.get("homepage")),
                "language": outlet.get("language"),
                "country": outlet.get("country"),
                "articles": count.get("articles", 0),
                "articles_url": datasette.urls.table(database, "articles")
                + "?"
                + urlencode({"outlet": slug}),
                "latest": article,
                "latest_url": datasette.urls.row(database, "articles", str(article["id"]))
                if article
                else None,
                "last_crawl": (run or {}).get("finished")
                or (run or {}).get("started")
                or (last_fetch or {}).get("fetched_at"),
                "run_id": (last_fetch or {}).get("run_id"),
                "run_url": datasette.urls.row(database, "runs", str(last_fetch["run_id"]))
                if last_fetch and last_fetch.get("run_id") is not None and has_runs
                else None,
                "health": status,
                "health_text": explanation,
            }
        )
    config = datasette.plugin_config("veille") or {}
    base = datasette.urls.database(database)
    alerts = [{**alert, **alert_links(base, alert)} for alert in load_alerts(config.get("alerts"))]
    return {
        "database": database,
        "title": datasette.metadata("title") or database,
        "outlets": rows,
        "total": sum(row["articles"] for row in counts.values()),
        "alerts": alerts,
        "search_url": base + "/search",
        "feed_url": base + "/feed.atom",
        "charts_url": datasette.urls.path("-/dashboards/activity"),
        "tables_url": base,
        "articles_url": datasette.urls.table(database, "articles"),
        "runs_url": datasette.urls.table(database, "runs") if has_runs else None,
        "fetches_url": datasette.urls.table(database, "fetches") if has_fetches else None,
    }


# -- article ---------------------------------------------------------------------------


async def article_data(datasette, database: str, pk: str) -> dict | None:
    db = datasette.get_database(database)
    tables = set(await db.table_names())
    if "articles" not in tables:
        return None
    join = "left join outlets on outlets.slug = articles.outlet" if "outlets" in tables else ""
    outlet_cols = (
        ", outlets.name as outlet_name, outlets.homepage as outlet_homepage" if join else ""
    )
    found = await _rows(
        db, f"select articles.*{outlet_cols} from articles {join} where articles.id = ?", [pk]
    )
    if not found:
        return None
    article = found[0]
    article_id = article["id"]
    columns = set(await db.table_columns("articles"))
    data = {
        "id": article_id,
        "title": article.get("title"),
        "outlet": article.get("outlet"),
        "outlet_name": article.get("outlet_name") or article.get("outlet"),
        "outlet_url": datasette.urls.table(database, "articles")
        + "?"
        + urlencode({"outlet": article.get("outlet") or ""}),
        "outlet_homepage": safe_url(article.get("outlet_homepage")),
        "url": article.get("url"),
        "link": safe_url(article.get("url")),
        "published": article.get("published"),
        "modified": article.get("modified"),
        "first_seen": article.get("first_seen"),
        "last_seen": article.get("last_seen"),
        "authors": json_list(article.get("authors")),
        "credits": json_list(article.get("credits")),
        "language": article.get("language"),
        "word_count": article.get("word_count"),
        "description": article.get("description"),
        "paragraphs": paragraphs(article.get("text")),
        "found_via": article.get("found_via"),
        "removed_at": article.get("removed_at") if "removed_at" in columns else None,
        "tracks_removal": "removed_at" in columns,
        "search_url": datasette.urls.database(database) + "/search",
        "json_url": datasette.urls.row(database, "articles", str(article_id), format="json"),
        "versions": None,
        "syndication": None,
        "variants": [],
    }
    if "article_versions" in tables:
        data["versions"] = await versions_of(db, article_id)
        base = datasette.urls.path(f"/-/archived/{database}/{article_id}")
        for version in data["versions"] or []:
            version["raw_url"] = f"{base}/{version['version']}" if version["raw"] else None
    if "story_id" in columns and article.get("story_id") is not None:
        others = await _rows(
            db,
            "select id, outlet, title, published from articles "
            "where story_id = ? and id != ? order by published limit 50",
            [article["story_id"], article_id],
        )
        data["syndication"] = [
            {**other, "href": datasette.urls.row(database, "articles", str(other["id"]))}
            for other in others or []
        ]
    if "article_urls" in tables:
        variants = await _rows(
            db, "select url from article_urls where article_id = ? order by url", [article_id]
        )
        data["variants"] = [
            {"url": row["url"], "link": safe_url(row["url"])}
            for row in variants or []
            if row["url"] != article.get("url")
        ]
    return data


async def versions_of(db, article_id: int) -> list[dict] | None:
    rows = await _rows(
        db,
        "select version, fetched_at, title, text, hash, warc_file from article_versions "
        "where article_id = ? order by version limit ?",
        [article_id, MAX_VERSIONS],
    )
    if rows is None:
        return None
    versions = []
    previous = None
    for row in rows:
        entry = {
            "version": row["version"],
            "fetched_at": row["fetched_at"],
            "title": row["title"],
            "raw": row["warc_file"] is not None,
        }
        if previous is not None:
            title = word_diff(previous["title"], row["title"])
            text = word_diff(previous["text"], row["text"])
            entry.update(
                {
                    "changed": previous.get("hash") != row.get("hash")
                    or previous["text"] != row["text"]
                    or previous["title"] != row["title"],
                    "title_diff": title["html"] if previous["title"] != row["title"] else None,
                    "text_diff": text["html"],
                    "added": text["added"] + title["added"],
                    "removed": text["removed"] + title["removed"],
                }
            )
        versions.append(entry)
        previous = row
    return versions


# -- Datasette's table counts ----------------------------------------------------------

# Tables up to this many rows get their exact count on Datasette's pages.
SMALL_TABLE_ROWS = 1000


def bounded_table_counts(conn: sqlite3.Connection) -> dict[str, int | None]:
    """Each table's row count if it is small, else None (Datasette then shows "Many
    rows"); `articles` exactly, from the outlet_counts table when there is one.

    Datasette counts every table with `select count(*)` on each view of a database page:
    SQLite answers that by walking the whole table, which its time limit cannot
    interrupt (about 100 ms per big table at a million articles). Reading at most
    SMALL_TABLE_ROWS + 1 rows tells a small table's exact count from a big one.
    """
    counts: dict[str, int | None] = {}
    found = conn.execute("select name, rootpage from sqlite_master where type = 'table'")
    for name, rootpage in found.fetchall():
        counts[name] = None
        if not rootpage:
            continue  # a virtual table: scanning it reads its content (FTS: every article)
        sql = f"select count(*) from (select 1 from {escape_sqlite(name)} limit ?)"
        try:
            (count,) = conn.execute(sql, [SMALL_TABLE_ROWS + 1]).fetchone()
        except sqlite3.Error:
            continue
        if count <= SMALL_TABLE_ROWS:
            counts[name] = count
    if "articles" in counts and "outlet_counts" in counts:
        total = "select coalesce(sum(articles), 0) from outlet_counts"
        with contextlib.suppress(sqlite3.Error):
            counts["articles"] = conn.execute(total).fetchone()[0]
    return counts


# -- hooks -----------------------------------------------------------------------------


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if request is None:
        return {}
    if view_name == "row" and table == "articles" and template == "row.html":
        pks = (request.url_vars or {}).get("pks")

        async def article():
            data = await article_data(datasette, database, tilde_decode(pks or ""))
            return {"veille_article": data} if data else {}

        return article
    if view_name == "database" and template == "database.html":

        async def home():
            data = await home_data(datasette, database)
            return {"veille_home": data} if data else {}

        return home
    if view_name == "index" and template == "index.html":

        async def homes():
            found = []
            for name in datasette.databases:
                if name.startswith("_"):
                    continue
                data = await home_data(datasette, name)
                if data:
                    found.append(data)
            return {"veille_homes": found}

        return homes
    return {}


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        # Immutable databases are counted once, at startup, and cached by Datasette; a
        # file served live (the archive as it is crawled) is counted on every page view.
        if db.is_mutable and not db.is_memory:
            use_bounded_counts(db)


def use_bounded_counts(db) -> None:
    """Datasette's table counts of this database from `bounded_table_counts`."""

    async def table_counts(limit: int = 10) -> dict[str, int | None]:
        return await db.execute_fn(bounded_table_counts)

    db.table_counts = table_counts


@hookimpl
def menu_links(datasette):
    links = [{"href": datasette.urls.path("-/dashboards/activity"), "label": "Charts"}]
    for name in datasette.databases:
        if not name.startswith("_"):
            links.insert(0, {"href": datasette.urls.database(name) + "/search", "label": "Search"})
            break
    return links


READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def with_headers(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if scope.get("method", "GET").upper() not in READ_METHODS:
                # The published archive is read-only: nothing here takes a POST.
                body = b"405: the published archive is read-only.\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 405,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"allow", b"GET, HEAD, OPTIONS"),
                            *SECURITY_HEADERS,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return None

            async def send_with_headers(event):
                if event["type"] == "http.response.start":
                    present = {name.lower() for name, _ in event.get("headers", [])}
                    extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                    event = {**event, "headers": [*event.get("headers", []), *extra]}
                await send(event)

            return await app(scope, receive, send_with_headers)

        return with_headers

    return wrap
