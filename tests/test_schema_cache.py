"""The schema, read once per schema version (archive/datasette/plugins/veille_schema.py):
a second view of the home page asks the database far less, and a schema that changes
while the archive is served (a new table, a new column) shows on the next page.

The archive as `archive serve` publishes it, in this process, over a real archive file;
every round trip to the database's thread pool is counted.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3

import pytest
from datasette.app import Datasette

from archive import serve
from archive.store import open_db


@pytest.fixture()
def archive(tmp_path):
    path = tmp_path / "archive.db"
    db = open_db(path)
    db["outlets"].insert({"slug": "ici", "name": "Ici", "homepage": "https://ici.example/"})
    db["articles"].insert_all(
        {
            "url": f"https://ici.example/{n}",
            "outlet": "ici",
            "title": f"Article {n}",
            "text": "Un texte sur Ankara.",
            "published": f"2024-05-0{n}T10:00:00+00:00",
        }
        for n in range(1, 4)
    )
    db.conn.close()
    return path


def published(path) -> Datasette:
    return Datasette(
        [str(path)],
        metadata=serve.metadata_for(path),
        plugins_dir=str(serve.HERE / "plugins"),
        template_dir=str(serve.HERE / "templates"),
        settings=serve.SETTINGS,
    )


def without_timings(html: str) -> str:
    return re.sub(r"Queries took [0-9.]+ms", "", html)


def test_a_second_view_of_the_home_page_asks_the_database_far_less(archive):
    datasette = published(archive)
    db = datasette.get_database("archive")
    trips = []
    execute_fn = db.execute_fn

    async def counted(fn):
        trips.append(fn)
        return await execute_fn(fn)

    db.execute_fn = counted

    async def view() -> tuple[str, int]:
        before = len(trips)
        response = await datasette.client.get("/archive")
        assert response.status_code == 200
        return without_timings(response.text), len(trips) - before

    async def views():
        await datasette.invoke_startup()
        return [await view() for _ in range(3)]

    (first, asked_first), (second, asked_second), (third, asked_third) = asyncio.run(views())
    assert first == second == third
    assert '<h3><a href="/archive/articles">articles</a>' in first
    # Datasette alone asks each table's columns, keys and full-text table on every view.
    assert asked_first > 60
    assert asked_second == asked_third < asked_first / 4


def test_a_schema_changed_while_served_shows_on_the_next_page(archive):
    datasette = published(archive)

    async def get(path: str):
        return await datasette.client.get(path)

    async def before_and_after():
        await datasette.invoke_startup()
        before = [await get("/archive"), await get("/archive/notes"), await get("/archive/outlets")]
        conn = sqlite3.connect(archive)
        with conn:
            conn.execute("create table notes (id integer primary key, body text)")
            conn.execute("insert into notes (body) values ('a note')")
            conn.execute("alter table outlets add column region text")
        conn.close()
        after = [await get("/archive"), await get("/archive/notes"), await get("/archive/outlets")]
        return before, after

    (home, notes, outlets), (home_after, notes_after, outlets_after) = asyncio.run(
        before_and_after()
    )
    assert notes.status_code == 404 and 'href="/archive/notes"' not in home.text
    assert notes_after.status_code == 200 and "a note" in notes_after.text
    assert 'href="/archive/notes"' in home_after.text
    assert "col-region" not in outlets.text and "col-region" in outlets_after.text
