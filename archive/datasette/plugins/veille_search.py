"""Datasette plugin: the archive's search — query syntax, the search and feed queries,
highlighted snippets, facets and readable explanations of a query.

The canned queries `search` (the search page, and its .json/.csv exports) and `feed`
(its .atom feed, via datasette-atom) are defined here, as metadata of every archive
database, rather than in metadata.yml: one set of filters serves both queries and the
facet counts of the search page, whatever the database is called.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from markupsafe import Markup, escape

try:
    from archive.search import MAX_PAGE, OPERATORS, TOKEN, fts_query, search_sql
except ImportError:  # published with `datasette package`: the module travels beside us

    def _load_syntax():
        path = Path(__file__).parent / "veille_syntax" / "search.py"
        spec = importlib.util.spec_from_file_location("veille_syntax", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["veille_syntax"] = module
        spec.loader.exec_module(module)
        return module

    _syntax = _load_syntax()
    OPERATORS, TOKEN, fts_query = _syntax.OPERATORS, _syntax.TOKEN, _syntax.fts_query
    search_sql, MAX_PAGE = _syntax.search_sql, _syntax.MAX_PAGE


# The search page's filters, in the order of its form. Each is a query-string
# parameter of /DB/search, /DB/search.json, /DB/search.csv and /DB/feed.atom.
FILTERS = ("q", "outlet", "language", "month", "credit", "author", "since", "until", "sort")


def _json_list_has(column: str, param: str) -> str:
    return (
        f"(:{param} = '' or exists (select 1 from json_each(case when json_valid({column})"
        f" then {column} else '[]' end) as j where j.value = :{param}))"
    )


# Everything but the full-text match, shared by the search rows and the facet counts.
WHERE_FILTERS = f"""
  and (:outlet = '' or articles.outlet = :outlet)
  and (:language = '' or articles.language = :language)
  and (:month = '' or articles.published_month = :month)
  and {_json_list_has("articles.credits", "credit")}
  and {_json_list_has("articles.authors", "author")}
  and (:since = '' or articles.published >= :since)
  and (:until = '' or substr(articles.published, 1, 10) <= :until)"""

MATCHED_FROM = """
from articles_fts
join articles on articles.rowid = articles_fts.rowid"""
MATCH = """
where articles_fts match veille_fts(:q)"""
MATCHED = MATCHED_FROM + MATCH

# True when no filter is set: the searches then rank or date the full-text matches alone.
NO_FILTER = " and ".join(f":{name} = ''" for name in FILTERS if name not in ("q", "sort"))

# Keep these five output columns: scripts and saved exports rely on them.
SEARCH_COLUMNS = """articles.outlet,
  substr(articles.published, 1, 10) as date,
  articles.title,
  articles.url,
  snippet(articles_fts, 1, '<mark>', '</mark>', '…', 30) as snippet"""
# A page of results, as many as the archive's table pages show; `page=2` gives the next.
SEARCH_PAGE_SIZE = 50
SEARCH_SQL = search_sql(
    SEARCH_COLUMNS,
    "veille_fts(:q)",
    WHERE_FILTERS,
    NO_FILTER,
    limit=SEARCH_PAGE_SIZE,
    page=":page",
)

# The Atom feed of a search or saved alert, newest first; without q, every new article.
# datasette-atom needs a timezone on atom_updated and at least one row. With q, the
# search's own newest-first plan: an alert on a common word or a phrase is polled often.
FEED_SIZE = 50
FEED_COLUMNS = """articles.url as atom_id,
  coalesce(articles.title, articles.url) as atom_title,
  case
    when articles.published glob '*[+-][0-9][0-9]:[0-9][0-9]'
      or articles.published glob '*Z' then articles.published
    else articles.first_seen
  end as atom_updated,
  articles.url as atom_link,
  coalesce((select name from outlets where outlets.slug = articles.outlet), articles.outlet)
    as atom_author_name,
  coalesce(nullif(articles.description, ''), substr(articles.text, 1, 400) || '…')
    as atom_content"""
FEED_MATCHES_SQL = search_sql(
    FEED_COLUMNS, "veille_fts(:q)", WHERE_FILTERS, NO_FILTER, limit=FEED_SIZE, sort="'date'"
)
FEED_SQL = f"""with hits as (
  select * from (
    select {FEED_COLUMNS}
    from articles
    where :q = ''{WHERE_FILTERS}
    order by articles.published desc
    limit {FEED_SIZE}
  )
  union all
  -- An empty query matches nothing here (fts_query gives an empty phrase).
  select * from ({FEED_MATCHES_SQL})
)
select * from hits
union all
select 'urn:veille:no-match', 'No article matches yet', '1970-01-01T00:00:00+00:00',
  'search', 'veille', 'New matching articles will appear in this feed.'
where not exists (select 1 from hits)"""

FACETS = (
    ("outlet", "Outlet", "articles.outlet", ""),
    ("language", "Language", "articles.language", ""),
    ("month", "Month", "articles.published_month", ""),
    ("credit", "Credits", "c.value", "articles.credits"),
    ("author", "Author", "a.value", "articles.authors"),
)
FACET_SIZE = 10
FACET_TIME_LIMIT_MS = 1000


# Each of Datasette's connections keeps up to this much of the archive in memory, not
# SQLite's default 2 MB: the full-text index's segment trees and the recent articles
# every search reads (1M articles: search p95 5–15 % lower than with the default).
CACHE_KIB = 65536


@hookimpl
def prepare_connection(conn):
    conn.create_function("veille_fts", 1, fts_query, deterministic=True)
    conn.execute(f"pragma cache_size = -{CACHE_KIB}")


QUERIES = {
    "search": {
        "sql": SEARCH_SQL,
        "title": "Search articles",
        "description": (
            "Full-text search by relevance or date, with highlighted snippets. "
            f"Accents are optional. {SEARCH_PAGE_SIZE} results a page: page=2 gives the next."
        ),
        "hide_sql": True,
        "params": [*FILTERS, "page"],
    },
    "feed": {
        "sql": FEED_SQL,
        "title": "veille — new matching articles",
        "description": (
            "The Atom feed of a search (add .atom to this page's address): the newest "
            "matching articles first. Without a query, every new article."
        ),
        "hide_sql": True,
        "params": [name for name in FILTERS if name != "sort"],
    },
}

_archives: dict[str, bool] = {}


def is_archive(db) -> bool:
    """Does this Datasette database hold a veille archive (with its full-text index)?"""
    path = getattr(db, "path", None)
    if not path:
        return False
    if path not in _archives:
        try:
            conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
            try:
                found = conn.execute(
                    "select 1 from sqlite_master where name = 'articles_fts'"
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            found = None
        _archives[path] = found is not None
    return _archives[path]


@hookimpl
def get_metadata(datasette):
    # The canned queries, as metadata: Datasette lists them, and datasette-atom takes
    # the feed's title from here. metadata.yml can still override any of their keys.
    return {
        "databases": {
            name: {"queries": QUERIES} for name, db in datasette.databases.items() if is_archive(db)
        }
    }


def _mark_snippet(value: str) -> Markup:
    # Only the snippet's <mark> tags become markup; everything the article
    # itself contains stays escaped text.
    escaped = str(escape(value))
    return Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column == "snippet" and isinstance(value, str):
        return _mark_snippet(value)
    if column != "title" or not isinstance(value, str):
        return None
    keys = row.keys() if hasattr(row, "keys") else ()
    if table == "articles" and "id" in keys:
        href = datasette.urls.row(database, "articles", str(row["id"]))
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    if table is None and "url" in keys:
        # A search result: its title leads to the archived article's page.
        async def link():
            try:
                rows = await datasette.get_database(database).execute(
                    "select id from articles where url = ?", [row["url"]]
                )
            except (sqlite3.Error, QueryInterrupted):
                return None
            first = rows.first()
            if first is None:
                return None
            href = datasette.urls.row(database, "articles", str(first["id"]))
            return Markup(f'<a class="veille-title" href="{escape(href)}">{escape(value)}</a>')

        return link
    return None


# -- the search page -------------------------------------------------------------


def explain_query(query: str) -> list[str]:
    """What a user should know about how their query was read, in plain words."""
    query = query or ""
    if not query.strip():
        return []
    notes: list[str] = []
    if query.count('"') % 2:
        notes.append(
            "A closing quote is missing: the words after the last opening quote "
            "were searched as one phrase."
        )
    if "(" in query or ")" in query:
        notes.append(
            "Parentheses are not supported and were ignored: OR joins the words on "
            "either side of it."
        )
    tokens = [t for t in TOKEN.findall(query) if t not in ("(", ")")]
    for token in tokens:
        if token.lower() in {"or", "and", "not"} and token not in OPERATORS and len(tokens) > 1:
            notes.append(
                f"“{token}” in lower case is searched as a word; write {token.upper()} in "
                "capitals to combine words."
            )
            break
    words = [t for t in tokens if t not in OPERATORS]
    if tokens and (tokens[0] in OPERATORS or tokens[-1] in OPERATORS):
        op = tokens[0] if tokens[0] in OPERATORS else tokens[-1]
        notes.append(f"{op} needs a word on each side; it was ignored where one was missing.")
    if words and words[0].startswith("-") and len(words[0]) > 1:
        notes.append(
            f"An exclusion needs a word to search for before it: “{words[0]}” was ignored "
            "at the start of the query."
        )
    if fts_query(query) == '""':
        notes.append(
            "There is nothing to search for in this query: type at least one word "
            "(letters or digits)."
        )
    return notes


# How SQLite's `cast(... as integer)`, which the search query applies to `page`, reads a
# text: its leading integer after any spaces, else 0.
LEADING_INTEGER = re.compile(r"\s*([+-]?\d+)")


def page_number(value: str | None) -> int:
    """The page a request asks for, read as the search query reads it: 1 to MAX_PAGE."""
    found = LEADING_INTEGER.match(value or "")
    number = int(found.group(1)) if found else 0
    return min(max(number, 1), MAX_PAGE)


def _url(path: str, args: dict[str, str]) -> str:
    kept = {key: value for key, value in args.items() if value}
    return path + ("?" + urlencode(kept) if kept else "")


async def _count(db, sql: str, params: dict) -> list | None:
    try:
        result = await db.execute(sql, params, custom_time_limit=FACET_TIME_LIMIT_MS)
    except (sqlite3.Error, QueryInterrupted):
        return None
    return list(result.rows)


async def _total(db, params: dict) -> int | None:
    # Without filters FTS5 counts its matches alone, without reading an article row each.
    unfiltered = all(not params[name] for name in FILTERS if name not in ("q", "sort"))
    sql = (
        "select count(*) from articles_fts where articles_fts match veille_fts(:q)"
        if unfiltered
        else f"select count(*) {MATCHED}{WHERE_FILTERS}"
    )
    rows = await _count(db, sql, params)
    return rows[0][0] if rows else None


def _facet_sql(facet: tuple[str, str, str, str]) -> str:
    _, _, expr, json_column = facet
    join = ""
    if json_column:
        alias = expr.split(".")[0]
        join = (
            f"\njoin json_each(case when json_valid({json_column}) then {json_column}"
            f" else '[]' end) as {alias}"
        )
    return (
        f"select {expr} as value, count(*) as n "
        f"{MATCHED_FROM}{join}{MATCH}{WHERE_FILTERS}"
        f"\n  and {expr} is not null and {expr} != ''"
        f"\ngroup by value order by n desc, value limit {FACET_SIZE + 1}"
    )


async def search_page(datasette, database: str, request) -> dict:
    args = {name: (request.args.get(name) or "").strip() for name in FILTERS}
    if args["sort"] not in ("", "relevance", "date"):
        args["sort"] = ""
    page = page_number(request.args.get("page"))
    db = datasette.get_database(database)
    path = datasette.urls.database(database) + "/search"
    params = {name: args[name] for name in FILTERS}
    has_query = fts_query(args["q"]) != '""'
    total = None
    facets = []
    if has_query:
        total = await _total(db, params)
    if total is not None:
        # Facets read every match as the count does, and more: when the count ran out of
        # time they would too, one after the other. Run together, they cost the slowest.
        counts = await asyncio.gather(*(_count(db, _facet_sql(f), params) for f in FACETS))
        for (name, label, _, _), counted in zip(FACETS, counts, strict=True):
            if counted is None:
                continue
            values = [
                {
                    "value": value,
                    "count": count,
                    "selected": args[name] == str(value),
                    "href": _url(
                        path,
                        {**args, name: "" if args[name] == str(value) else str(value)},
                    ),
                }
                for value, count in counted[:FACET_SIZE]
            ]
            if values or args[name]:
                facets.append(
                    {
                        "name": name,
                        "label": label,
                        "options": values,
                        "truncated": len(counted) > FACET_SIZE,
                    }
                )
    active = [
        {"name": name, "value": args[name], "remove": _url(path, {**args, name: ""})}
        for name in FILTERS
        if name not in ("q", "sort") and args[name]
    ]
    feed_args = {k: v for k, v in args.items() if k != "sort"}
    charts_args = {"q": args["q"], "outlet": args["outlet"]}
    this_page = {**args, "page": str(page) if page > 1 else ""}
    return {
        "args": args,
        "page": page,
        "page_size": SEARCH_PAGE_SIZE,
        "first_row": SEARCH_PAGE_SIZE * (page - 1) + 1,
        "last_page": MAX_PAGE,
        "previous_url": _url(path, {**args, "page": str(page - 1) if page > 2 else ""})
        if page > 1
        else None,
        "next_url": _url(path, {**args, "page": str(page + 1)}) if page < MAX_PAGE else None,
        "notes": explain_query(args["q"]),
        "has_query": has_query,
        "total": total,
        "facets": facets,
        "active": active,
        "path": path,
        "sort_links": {
            "relevance": _url(path, {**args, "sort": ""}),
            "date": _url(path, {**args, "sort": "date"}),
        },
        "feed_url": _url(datasette.urls.database(database) + "/feed.atom", feed_args),
        "json_url": _url(path + ".json", {**this_page, "_shape": "array"}),
        "csv_url": _url(path + ".csv", this_page),
        "charts_url": _url(datasette.urls.path("-/dashboards/activity"), charts_args),
        "table_url": datasette.urls.table(database, "articles"),
    }


@hookimpl
def extra_template_vars(template, database, view_name, request, datasette):
    if template != "query.html" or request is None or not database:
        return {}
    if (request.url_vars or {}).get("table") != "search":
        return {}

    async def inner():
        db = datasette.get_database(database)
        if not await db.table_exists("articles_fts"):
            return {}
        return {"veille_search": await search_page(datasette, database, request)}

    return inner
