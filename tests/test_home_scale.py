"""The home page at scale (archive/datasette/plugins/veille_pages.py): its figures come
from tables kept current by triggers, never from counting a big table on a page view.

A real archive file (schema by `archive.store.open_db`, so with the outlet_counts
triggers and the outlet_health view) holding more rows than the plugin counts exactly,
served by a real Datasette configured as `python -m archive serve` does, plus SQL
tracing (`?_trace=1`) to see every query a page runs. Rows are written while it runs.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from conftest import free_port, serving

from archive import serve
from archive.store import open_db

BIG = 1200  # more rows than the plugin counts exactly (SMALL_TABLE_ROWS)
SMALL = 30


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def add_articles(db: Path, outlet: str, count: int, start: int) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "insert into articles (url, outlet, title, text, published, first_seen) "
            "values (?, ?, ?, ?, ?, ?)",
            [
                (
                    f"https://{outlet}.example/{n}",
                    outlet,
                    f"{outlet} article {n}",
                    "Un texte court.",
                    f"2024-05-01T{n // 3600 % 24:02}:{n // 60 % 60:02}:{n % 60:02}+00:00",
                    now(),
                )
                for n in range(start, start + count)
            ],
        )
    conn.close()


def add_run(db: Path, fetches: list[tuple[str, str, str, int | None]]) -> int:
    """A finished crawl run with its fetches: (outlet, role, outcome, HTTP status)."""
    conn = sqlite3.connect(db)
    with conn:
        run_id = conn.execute(
            "insert into runs (kind, started, finished, status) values ('crawl', ?, ?, 'finished')",
            [now(), now()],
        ).lastrowid
        conn.executemany(
            "insert into fetches (run_id, url, outlet, role, outcome, status, fetched_at) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    f"https://{outlet}.example/f{run_id}-{n}",
                    outlet,
                    role,
                    outcome,
                    status,
                    now(),
                )
                for n, (outlet, role, outcome, status) in enumerate(fetches)
            ],
        )
    conn.close()
    return run_id


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    db_path = tmp_path_factory.mktemp("scale") / "scale.db"
    db = open_db(db_path)
    db["outlets"].insert_all(
        [
            {
                "slug": "grand-quotidien",
                "name": "Grand Quotidien",
                "homepage": "https://g.example/",
            },
            {"slug": "petit-hebdo", "name": "Petit Hebdo", "homepage": "https://p.example/"},
        ]
    )
    db.conn.close()
    add_articles(db_path, "grand-quotidien", BIG, 0)
    add_articles(db_path, "petit-hebdo", SMALL, 0)
    ok = [("grand-quotidien", "article", "archived", 200)] * BIG
    add_run(db_path, [*ok, ("petit-hebdo", "homepage", "archived", 200)])
    return db_path


@pytest.fixture(scope="module")
def base_url(archive):
    """Datasette with the arguments `python -m archive serve` gives it, and SQL tracing."""
    port = free_port()
    metadata = Path(tempfile.mkdtemp(prefix="veille-scale-")) / "metadata.json"
    metadata.write_text(json.dumps(serve.metadata_for(archive)))
    args = serve.datasette_args(archive, "127.0.0.1", port, metadata)
    datasette = Path(sys.executable).with_name("datasette")
    with serving([str(datasette), *args, "--setting", "trace_debug", "1"], port) as url:
        yield url


def traced_sql(url: str) -> tuple[str, list[str]]:
    """The page and the SQL it ran, from Datasette's trace appended to the page."""
    page = httpx.get(url, params={"_trace": "1"}, timeout=30)
    assert page.status_code == 200
    trace = re.findall(r"<pre>(\{.*?)</pre>", page.text, re.S)[-1]
    return page.text, [t.get("sql") or "" for t in json.loads(html.unescape(trace))["traces"]]


def outlet_count(page: str, slug: str) -> str:
    found = re.search(rf'<a href="/scale/articles\?outlet={slug}">([\d,]+)</a>', page)
    assert found, f"no article count for {slug}"
    return found.group(1)


def table_rows(page: str, table: str) -> str:
    """What the database page says of a table's rows ("2 rows", "Many rows")."""
    found = re.search(
        rf'<h3><a href="/scale/{table}">{table}</a>.*?</h3>\s*<p><em>.*?</em></p>\s*<p>([^<]*)</p>',
        page,
        re.S,
    )
    assert found, f"no table {table} on the page"
    return found.group(1)


def test_home_counts_stay_current_as_articles_and_crawls_are_written(archive, base_url):
    for path in ("/", "/scale"):
        page = httpx.get(base_url + path).text
        assert outlet_count(page, "grand-quotidien") == f"{BIG:,}"
        assert outlet_count(page, "petit-hebdo") == f"{SMALL:,}"
        assert f"{BIG + SMALL:,} articles from 2 outlets" in page
        assert page.count('veille-health-ok">ok<') == 2

    # A crawl writes while the server runs: new articles, and a homepage that failed.
    add_articles(archive, "petit-hebdo", 5, SMALL)
    add_run(archive, [("petit-hebdo", "homepage", "failed", 503)])
    for path in ("/", "/scale"):
        page = httpx.get(base_url + path).text
        assert outlet_count(page, "petit-hebdo") == f"{SMALL + 5:,}"
        assert f"{BIG + SMALL + 5:,} articles from 2 outlets" in page
        assert 'veille-health-down">down<' in page
        assert f'href="/scale/articles/{BIG + SMALL + 5}"' in page  # the newest article

    # The database page's count of articles is current too.
    page = httpx.get(base_url + "/scale").text
    assert table_rows(page, "articles") == f"{BIG + SMALL + 5:,} rows"


def test_home_pages_never_count_a_whole_table(archive, base_url):
    for path in ("/", "/scale"):
        page, queries = traced_sql(base_url + path)
        assert "Grand Quotidien" in page and queries
        counting = [sql for sql in queries if re.search(r"count\s*\(", sql, re.I)]
        assert counting == []
        assert any("from outlet_counts" in sql for sql in queries)
    # Small tables keep their exact count; a big one shows none rather than walking it.
    page = httpx.get(base_url + "/scale").text
    assert table_rows(page, "outlets") == "2 rows"
    assert table_rows(page, "fetches") == "Many rows"
