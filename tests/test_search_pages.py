"""The search page fifty results at a time, served by a real `python -m archive serve`.

The archive holds more matches than three pages, with unique dates, so every page,
its links and its exports can be checked against the archive itself.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import free_port, serving

from archive.search import MAX_PAGE
from archive.store import open_db

MATCHES = 130  # two full pages and part of a third
OTHERS = 20
FAR = MAX_PAGE * 50 + 10  # more matches than the pages reach
START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "archive.db"
    db = open_db(path)
    db["outlets"].insert({"slug": "ici", "name": "Ici", "homepage": "https://ici.example/"})
    rows = []
    for n in range(MATCHES + OTHERS):
        published = (START + timedelta(hours=7 * ((n * 37) % 150))).isoformat()
        word = "Ankara" if n < MATCHES else "Bakou"
        rows.append(
            {
                "url": f"https://ici.example/{n}",
                "outlet": "ici",
                "title": f"Article {n}",
                # How often the word appears sets the relevance: no two alike.
                "text": " ".join([word] * (1 + n % 9) + ["texte"] * (40 + n)),
                "published": published,
                "published_month": published[:7],
                "language": "fr",
            }
        )
    rows += [
        {
            "url": f"https://ici.example/far/{n}",
            "outlet": "ici",
            "title": f"Loin {n}",
            "text": "Erevan texte",
            "published": (START + timedelta(minutes=n)).isoformat(),
        }
        for n in range(FAR)
    ]
    db["articles"].insert_all(rows, alter=True)
    db.conn.close()
    return path


@pytest.fixture(scope="module")
def base(archive):
    port = free_port()
    command = [sys.executable, "-m", "archive", "serve", "--db", str(archive), "--port", str(port)]
    with serving(command, port) as url:
        yield url + "/archive"


def rows(base: str, **params: str) -> list[dict]:
    response = httpx.get(f"{base}/search.json", params={"_shape": "array", **params}, timeout=30)
    response.raise_for_status()
    return response.json()


def page(base: str, **params: str) -> str:
    response = httpx.get(f"{base}/search", params=params, timeout=30)
    response.raise_for_status()
    return response.text


def newest_first(archive: Path) -> list[str]:
    conn = sqlite3.connect(archive)
    try:
        return [
            url
            for (url,) in conn.execute(
                "select url from articles where text like 'Ankara%' order by published desc"
            )
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("sort", ["", "date"])
def test_the_pages_hold_every_match_once(base, archive, sort):
    pages = [rows(base, q="Ankara", sort=sort, page=str(n)) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [50, 50, MATCHES - 100, 0]
    urls = [row["url"] for p in pages for row in p]
    assert len(set(urls)) == MATCHES
    if sort == "date":
        assert urls == newest_first(archive)
    # Blank or nonsense is the first page.
    assert rows(base, q="Ankara", sort=sort, page="zero") == pages[0]
    assert rows(base, q="Ankara", sort=sort) == pages[0]


@pytest.mark.parametrize("sort", ["", "date"])
def test_each_page_links_to_its_neighbours_and_exports_its_own_rows(base, sort):
    args = "q=Ankara" + (f"&amp;sort={sort}" if sort else "")
    first = page(base, q="Ankara", sort=sort)
    assert f"<strong>{MATCHES}</strong> articles match; showing 1–50." in first
    assert f'<a href="/archive/search?{args}&amp;page=2" rel="next">next 50 →</a>' in first
    assert 'rel="prev"' not in first
    assert f'href="/archive/search.csv?{args}"' in first

    second = page(base, q="Ankara", sort=sort, page="2")
    assert "showing 51–100." in second
    assert f'<a href="/archive/search?{args}" rel="prev">← previous 50</a>' in second
    assert f'<a href="/archive/search?{args}&amp;page=3" rel="next">' in second

    last = page(base, q="Ankara", sort=sort, page="3")
    assert f"showing 101–{MATCHES}." in last
    assert f'<a href="/archive/search?{args}&amp;page=2" rel="prev">' in last
    assert 'rel="next"' not in last
    assert f'href="/archive/search.csv?{args}&amp;page=3"' in last
    assert f'href="/archive/search.json?{args}&amp;page=3&amp;_shape=array"' in last
    exported = httpx.get(
        f"{base}/search.csv", params={"q": "Ankara", "sort": sort, "page": "3"}, timeout=30
    ).text
    assert [line[3] for line in csv.reader(io.StringIO(exported))][1:] == [
        row["url"] for row in rows(base, q="Ankara", sort=sort, page="3")
    ]

    beyond = page(base, q="Ankara", sort=sort, page="4")
    assert "No more matches on page 4" in beyond and "No article matches" not in beyond


def test_changing_a_filter_or_the_order_starts_again_at_the_first_page(base):
    second = page(base, q="Ankara", page="2")
    assert 'href="/archive/search?q=Ankara&amp;sort=date">date</a>' in second
    assert 'href="/archive/search?q=Ankara&amp;outlet=ici"' in second  # the outlet facet


def test_a_search_with_one_page_has_no_page_links(base):
    html = page(base, q="Bakou")
    assert f"<strong>{OTHERS}</strong> articles match." in html
    assert '<nav class="veille-pages"' not in html


def test_the_last_page_says_how_to_reach_further_back(base):
    last = page(base, q="Erevan", sort="date", page=str(MAX_PAGE))
    first_row = 50 * (MAX_PAGE - 1) + 1
    assert f"showing {first_row:,}–{first_row + 49:,}." in last
    assert "narrow the search with dates to read further back" in last
    assert 'rel="next"' not in last
    beyond = rows(base, q="Erevan", sort="date", page=str(MAX_PAGE + 1))
    assert beyond == rows(base, q="Erevan", sort="date", page=str(MAX_PAGE))
    # Newest first, the last row shown is the 5,000th newest match.
    assert beyond[-1]["title"] == f"Loin {FAR - MAX_PAGE * 50}"
