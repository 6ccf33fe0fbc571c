"""Datasette plugin: each database's schema read once per schema version, not per page.

Datasette 0.65's database page (the archive's home page) asks each of the archive's ~35
tables for its columns, primary keys and full-text table, one round trip through the
thread pool each: over 100 a view, about a third of the page's time, on a page every
visitor opens. Those answers change only when the schema does, and Datasette reads each
database's `PRAGMA schema_version` at the start of every request: the answers are kept
for the schema version the current request read. A request that did not read it
(another request was refreshing the schemas at that moment) asks Datasette as before.
"""

from __future__ import annotations

import asyncio
import copy
import weakref

from datasette import hookimpl

# Datasette's own statement (datasette/app.py, _refresh_schemas).
SCHEMA_VERSION_SQL = "PRAGMA schema_version"
# Database methods whose answers depend on the schema (and the fixed metadata) alone.
SCHEMA_METHODS = (
    "table_exists",
    "table_names",
    "view_names",
    "hidden_table_names",
    "table_columns",
    "table_column_details",
    "primary_keys",
    "fts_table",
    "label_column_for_table",
    "foreign_keys_for_table",
    "get_all_foreign_keys",
)


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if not db.is_memory:
            cache_schema_answers(db)


def _request() -> asyncio.Task | None:
    # Datasette serves each request in a task of its own.
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def cache_schema_answers(db) -> None:
    """Keep the answers of `db`'s schema methods for the schema version each request
    reads; every other query goes through unchanged."""
    versions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    known: dict = {"version": None, "answers": {}}
    execute = db.execute

    async def execute_noting_the_version(sql, *args, **kwargs):
        results = await execute(sql, *args, **kwargs)
        request = _request()
        if request is not None and isinstance(sql, str) and sql.strip() == SCHEMA_VERSION_SQL:
            versions[request] = results.first()[0]
        return results

    db.execute = execute_noting_the_version

    def cached(name: str, ask):
        async def answer(*args):
            request = _request()
            version = versions.get(request) if request is not None else None
            if version is None:
                return await ask(*args)
            if known["version"] != version:  # nothing known of another schema holds
                known.update(version=version, answers={})
            answers = known["answers"]
            key = (name, args)
            if key not in answers:
                answers[key] = await ask(*args)
            # Callers may change what they are given: each gets its own copy.
            return copy.deepcopy(answers[key])

        return answer

    for name in SCHEMA_METHODS:
        ask = getattr(db, name, None)
        if callable(ask):
            setattr(db, name, cached(name, ask))
