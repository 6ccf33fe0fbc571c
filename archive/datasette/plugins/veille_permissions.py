"""Datasette plugin: Datasette's permission checks, answered once per question.

The database page (the archive's home page) asks whether each of its ~20 tables and
views may be seen, twice for an anonymous visitor (by them, then by anyone), and
Datasette 0.65 first looks up each table's spelling in `sqlite_master`, one query per
check through its thread pool: about 200 checks and 40 queries, a quarter of the page's
time. The answers cannot change while one request is served, so each request asks each
question once and reads the table names once; nothing is kept from one request to the
next. Which `allow` blocks the metadata sets on a table is kept for the server's life:
the metadata is fixed while it runs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import weakref

from datasette import hookimpl
from datasette.database import Results

# Datasette's own query for a table's spelling (datasette/app.py, permission_allowed).
SPELLING_SQL = (
    "select name from sqlite_master where type in ('table', 'view') and name = ? collate nocase"
)
# SQLite's NOCASE folds ASCII letters only, unlike str.lower() or str.casefold().
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@hookimpl
def startup(datasette):
    memoize_table_permissions(datasette)
    answer_permissions_once_per_request(datasette)
    for db in datasette.databases.values():
        spell_table_names_once_per_request(db)


def _request() -> asyncio.Task | None:
    # Datasette serves each request in a task of its own.
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def answer_permissions_once_per_request(datasette) -> None:
    """`datasette.permission_allowed` asks its plugins each question once per request."""
    ask = datasette.permission_allowed
    answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def permission_allowed(actor, action, resource=None, default=False):
        request = _request()
        if request is None:
            return await ask(actor, action, resource=resource, default=default)
        key = (json.dumps(actor, sort_keys=True, default=repr), action, repr(resource), default)
        asked = answers.setdefault(request, {})
        if key not in asked:
            asked[key] = await ask(actor, action, resource=resource, default=default)
        return asked[key]

    datasette.permission_allowed = permission_allowed


def spell_table_names_once_per_request(db) -> None:
    """Datasette's per-check lookup of a table's spelling, answered from the database's
    table and view names, read once per request; every other query goes through
    unchanged."""
    execute = db.execute
    spellings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def execute_spelling_once(sql, params=None, *args, **kwargs):
        request = _request()
        if request is None or sql.strip() != SPELLING_SQL or not params or args or kwargs:
            return await execute(sql, params, *args, **kwargs)
        names = spellings.get(request)
        if names is None:
            # Asked of the database object, so veille_schema's answers serve when loaded.
            found = [*await db.table_names(), *await db.view_names()]
            names = {name.translate(ASCII_LOWER): name for name in found}
            spellings[request] = names
        name = names.get(str(params[0]).translate(ASCII_LOWER))
        return Results([(name,)] if name is not None else [], False, [("name",)])

    db.execute = execute_spelling_once


def memoize_table_permissions(datasette) -> None:
    """Remember which `allow` blocks the metadata sets on each table.

    Datasette 0.65 looks them up by deep-copying the whole metadata, for each of the two
    view-table checks per table that its index and database pages make: 0.2 ms each, a
    quarter of the home page on an archive's 19 tables and views. The metadata is fixed
    while the server runs (metadata.yml, and the canned queries veille_search adds), so
    the answers are too. A Datasette without this internal method is left as it is.
    """
    lookup = getattr(datasette, "_table_permission_allows", None)
    if callable(lookup):
        datasette._table_permission_allows = functools.lru_cache(maxsize=4096)(lookup)
