"""Fast search plans give exactly the rows of the plain queries they replace.

The archive here is built so that archiving order (rowid) and publication order
disagree the way they do in a real monitor: history back-filled when an outlet is
added (high rowids, old dates) and a few early articles carrying the newest dates
(an outlet's clock, or a date corrected on a re-check). Common words match more
articles than the newest-first window, so the floor and the walk back by date are
both exercised; rare words and small outlets stay inside the window.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.datasette.plugins.veille_search import (
    FEED_SIZE,
    FEED_SQL,
    FILTERS,
    SEARCH_PAGE_SIZE,
    SEARCH_SQL,
    page_number,
)
from archive.search import (
    MAX_PAGE,
    OUTLET_FILTER,
    WALK_STEPS_PER_ROW,
    WINDOW,
    fts_query,
    search,
    search_sql,
)
from archive.store import open_db

ARTICLES = 3000
START = datetime(2020, 1, 1, tzinfo=UTC)
OUTLETS = (("big", 0.70), ("mid", 0.25), ("small", 0.05))
FILLER = [f"mot{i}" for i in range(200)]
BACKFILL = 0.85  # the last 15% of rowids are back-filled history
NEWEST_OLD_ROWIDS = range(40, 400, 12)  # early rowids with the archive's newest dates

QUERIES = [
    "turquie",  # common: more matches than the window
    "ankara",
    "karabakh",  # rare
    '"gaz naturel"',  # phrase
    "négoc*",  # five-letter prefix
    "turquie ankara",  # AND
    "turquie -ankara",
]


def _published(rowid: int, rng: random.Random) -> datetime:
    if rowid in NEWEST_OLD_ROWIDS:  # among the newest hundred, and around its end
        return START + timedelta(days=365 * BACKFILL * rng.uniform(0.93, 1.0))
    if rowid > ARTICLES * BACKFILL:  # a back-fill: old history archived last
        return START + timedelta(days=rng.uniform(0, 150))
    return START + timedelta(days=365 * rowid / ARTICLES, seconds=rng.randrange(3600))


def _text(rng: random.Random) -> str:
    words = rng.choices(FILLER, k=rng.randint(8, 40))
    for word, share in (("Turquie", 0.8), ("Ankara", 0.55), ("Karabakh", 0.03)):
        if rng.random() < share:
            words.insert(rng.randrange(len(words) + 1), word)
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), "gaz naturel")
    if rng.random() < 0.3:
        words.append(rng.choice(["négociation", "négocier", "négociants"]))
    return " ".join(words)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("order") / "archive.db"
    rng = random.Random(7)
    db = open_db(path)
    db["outlets"].insert_all(
        {"slug": slug, "name": slug, "homepage": f"https://{slug}.example/"} for slug, _ in OUTLETS
    )
    seen: set[str] = set()
    rows = []
    for rowid in range(1, ARTICLES + 1):
        published = _published(rowid, rng)
        while published.isoformat() in seen:  # unique dates: one right answer
            published += timedelta(seconds=1)
        seen.add(published.isoformat())
        slug = rng.choices([s for s, _ in OUTLETS], [w for _, w in OUTLETS])[0]
        rows.append(
            {
                "id": rowid,
                "url": f"https://{slug}.example/{rowid}",
                "outlet": slug,
                "title": f"Article {rowid}",
                "text": _text(rng),
                "published": published.isoformat(),
                "published_month": published.isoformat()[:7],
                "language": "fr",
            }
        )
    db["articles"].insert_all(rows)
    db.conn.close()
    return path


@pytest.fixture(scope="module")
def conn(archive):
    connection = sqlite3.connect(archive)
    connection.create_function("veille_fts", 1, fts_query, deterministic=True)
    yield connection
    connection.close()


def test_the_archive_exercises_the_window_and_the_walk_back(conn):
    common = conn.execute(
        "select count(*) from articles_fts where articles_fts match ?", [fts_query("turquie")]
    ).fetchone()[0]
    rare = conn.execute(
        "select count(*) from articles_fts where articles_fts match ?", [fts_query("karabakh")]
    ).fetchone()[0]
    assert common > 2 * WINDOW and 0 < rare < WINDOW
    # With so few articles the window's plan is the one taken: n² ≥ 1.5 × 3,000.
    assert WINDOW**2 >= WALK_STEPS_PER_ROW * ARTICLES
    newest = brute_newest(conn, "turquie")
    assert set(newest) & set(NEWEST_OLD_ROWIDS)  # found only by walking back by date
    assert newest != sorted(newest, reverse=True)  # rowid order is not date order


OUTLET = " and articles.outlet = :outlet"


def brute_newest(conn, q: str, where: str = "", **params: str) -> list[int]:
    """Every match, newest first (equal dates newest archived first)."""
    return [
        row[0]
        for row in conn.execute(
            "select articles.id from articles_fts join articles on articles.id = articles_fts.rowid"
            f" where articles_fts match :match{where}"
            " order by articles.published desc, articles.id desc",
            {"match": fts_query(q), **params},
        )
    ]


def ranks(conn, q: str, where: str = "", **params: str) -> dict[int, float]:
    """Every match's rank, for those passing the filter."""
    return dict(
        conn.execute(
            "select articles.id, articles_fts.rank from articles_fts"
            " join articles on articles.id = articles_fts.rowid"
            f" where articles_fts match :match{where}",
            {"match": fts_query(q), **params},
        ).fetchall()
    )


def assert_top_by_rank(got: list[int], rank: dict[int, float], count: int = 100) -> None:
    # Equal bm25 scores may come in any order: the ranks, in order, are the answer.
    assert len(set(got)) == len(got)
    assert [rank[i] for i in got] == sorted(rank.values())[:count]


def canned(conn, q: str, page: str = "", **params: str) -> list[int]:
    """One page of the search page's own query."""
    values = {**{name: "" for name in FILTERS}, "q": q, "page": page, **params}
    cursor = conn.execute(SEARCH_SQL, values)
    rows = cursor.fetchall()
    assert [c[0] for c in cursor.description] == ["outlet", "date", "title", "url", "snippet"]
    assert all("<mark>" in row[4] for row in rows)
    assert len(rows) <= SEARCH_PAGE_SIZE
    return [int(row[3].rsplit("/", 1)[1]) for row in rows]


PAGES = 3


def canned_pages(conn, q: str, **params: str) -> list[int]:
    """The first PAGES pages of the search page, one after the other."""
    return [i for page in range(1, PAGES + 1) for i in canned(conn, q, str(page), **params)]


@pytest.mark.parametrize("q", QUERIES)
def test_newest_first_pages_are_the_newest_matches(conn, archive, q):
    expected = brute_newest(conn, q)
    assert canned_pages(conn, q, sort="date") == expected[: PAGES * SEARCH_PAGE_SIZE]
    assert canned(conn, q, sort="date") == expected[:SEARCH_PAGE_SIZE]
    assert [h.id for h in search(archive, q, limit=100, newest_first=True)] == expected[:100]
    assert [h.id for h in search(archive, q, newest_first=True)] == expected[:20]
    assert [h.id for h in search(archive, q, newest_first=True, page=4)] == expected[60:80]


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("outlet", ["", "big"])
@pytest.mark.parametrize("walk_steps_per_row", [0, 10_000])
@pytest.mark.parametrize("page", [1, 4])
def test_newest_first_is_the_same_whether_it_reads_every_match_or_walks_back(
    conn, q, outlet, walk_steps_per_row, page
):
    # 0: always a window and the walk back from its floor; 10,000: every query here
    # matches fewer than COUNT_CAP articles, few enough (n² < 10,000 × 3,000) to read
    # them all. Page 4 of 100 rows reaches below the first window's 300 rows.
    sql = search_sql(
        "articles.id",
        "veille_fts(:q)",
        OUTLET_FILTER,
        ":outlet = ''",
        walk_steps_per_row=walk_steps_per_row,
        page=":page",
    )
    params = {"q": q, "sort": "date", "outlet": outlet, "page": page}
    found = [row[0] for row in conn.execute(sql, params)]
    where = OUTLET if outlet else ""
    assert found == brute_newest(conn, q, where, outlet=outlet)[100 * (page - 1) : 100 * page]


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("outlet", ["big", "small"])
def test_newest_first_within_an_outlet(conn, archive, q, outlet):
    expected = brute_newest(conn, q, OUTLET, outlet=outlet)
    assert canned_pages(conn, q, sort="date", outlet=outlet) == expected[: PAGES * SEARCH_PAGE_SIZE]
    hits = search(archive, q, limit=100, outlet=outlet, newest_first=True)
    assert [h.id for h in hits] == expected[:100]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"until": "2020-06-30"}, " and substr(articles.published, 1, 10) <= :until"),
        ({"since": "2020-12-01"}, " and articles.published >= :since"),
        ({"month": "2020-03"}, " and articles.published_month = :month"),
    ],
)
def test_newest_first_within_dates(conn, params, where):
    for q in ("turquie", "karabakh"):
        expected = brute_newest(conn, q, where, **params)[: PAGES * SEARCH_PAGE_SIZE]
        assert canned_pages(conn, q, sort="date", **params) == expected


@pytest.mark.parametrize("q", QUERIES)
@pytest.mark.parametrize("outlet", ["", "small"])
def test_the_atom_feed_of_a_search_is_its_newest_articles(conn, q, outlet):
    params = {name: "" for name in FILTERS if name != "sort"} | {"q": q, "outlet": outlet}
    urls = [row[0] for row in conn.execute(FEED_SQL, params)]
    expected = brute_newest(conn, q, OUTLET if outlet else "", outlet=outlet)[:FEED_SIZE]
    assert [int(url.rsplit("/", 1)[1]) for url in urls] == expected


@pytest.mark.parametrize("q", QUERIES)
def test_relevance_pages_are_the_best_matches_by_rank(conn, archive, q):
    rank = ranks(conn, q)
    assert_top_by_rank(canned_pages(conn, q), rank, PAGES * SEARCH_PAGE_SIZE)
    assert_top_by_rank([h.id for h in search(archive, q, limit=100)], rank)
    assert canned(conn, q, "2", sort="relevance") == canned(conn, q, "2")


@pytest.mark.parametrize("q", ["turquie", "karabakh", '"gaz naturel"'])
def test_relevance_within_an_outlet(conn, archive, q):
    rank = ranks(conn, q, OUTLET, outlet="small")
    assert_top_by_rank(canned_pages(conn, q, outlet="small"), rank, PAGES * SEARCH_PAGE_SIZE)
    assert_top_by_rank([h.id for h in search(archive, q, limit=100, outlet="small")], rank)


@pytest.mark.parametrize("sort", ["", "date"])
@pytest.mark.parametrize("outlet", ["", "big"])
def test_a_page_number_is_read_as_people_type_it(conn, sort, outlet):
    # Blank, nonsense, zero or negative is the first page; past MAX_PAGE, the last.
    sql = search_sql(
        "articles.id", "veille_fts(:q)", OUTLET_FILTER, ":outlet = ''", 1, page=":page"
    )

    def row(page: object) -> list[int]:
        params = {"q": "turquie", "sort": sort, "outlet": outlet, "page": page}
        return [r[0] for r in conn.execute(sql, params)]

    first, last = row(1), row(MAX_PAGE)
    assert len(first) == len(last) == 1 and first != last
    for page in ("", None, "abc", "0", "-3", " 1"):
        assert row(page) == first, page
    assert row(MAX_PAGE + 50) == row(str(10 * MAX_PAGE)) == last
    assert row("2") == row(2) != first


def test_search_snippets_use_the_terminal_markers(archive):
    hits = search(archive, "karabakh", limit=5)
    assert len(hits) == 5
    assert all("\x02Karabakh\x03" in hit.snippet for hit in hits)


@pytest.mark.parametrize(
    "typed", ["", "2", " 3", "4.7", "5abc", "abc", "-4", "0", "+2", "  7  ", "99999999999999999999"]
)
def test_the_page_the_search_page_shows_is_the_page_its_query_returns(conn, typed):
    # The page number and links come from Python, the rows from SQLite's reading of it.
    sql = search_sql(
        "articles.id", "veille_fts(:q)", OUTLET_FILTER, ":outlet = ''", 1, page=":page"
    )

    def row(page: object) -> list[int]:
        params = {"q": "turquie", "sort": "date", "outlet": "", "page": page}
        return [r[0] for r in conn.execute(sql, params)]

    assert row(typed) == row(page_number(typed))


@pytest.mark.parametrize("sort", ["", "date"])
@pytest.mark.parametrize("outlet", ["", "big"])
@pytest.mark.parametrize("page", [1, 3])
def test_snippets_are_made_only_for_the_rows_returned(archive, sort, outlet, page):
    # A snippet means reading and tokenising an article's whole text: made for every
    # match of a common word, it would cost seconds on a large archive.
    made = []
    connection = sqlite3.connect(archive)
    connection.create_function("veille_fts", 1, fts_query, deterministic=True)
    connection.create_function("made", 1, lambda value: made.append(value) or value)
    sql = search_sql(
        "made(snippet(articles_fts, 1, '[', ']', '…', 8)) as snippet",
        "veille_fts(:q)",
        OUTLET_FILTER,
        ":outlet = ''",
        limit=20,
        page=":page",
    )
    params = {"q": "turquie", "sort": sort, "outlet": outlet, "page": page}
    try:
        rows = connection.execute(sql, params).fetchall()
    finally:
        connection.close()
    assert len(rows) == 20
    assert len(made) == 20


@pytest.fixture(scope="module")
def same_day(tmp_path_factory) -> sqlite3.Connection:
    """An archive of outlets that give a day and no time: dozens of articles a date."""
    path = tmp_path_factory.mktemp("same_day") / "archive.db"
    rng = random.Random(11)
    db = open_db(path)
    db["outlets"].insert({"slug": "day", "name": "day", "homepage": "https://day.example/"})
    rows = []
    for rowid in range(1, ARTICLES + 1):
        back_filled = rowid > ARTICLES * BACKFILL
        day = rng.randrange(20) if back_filled else rowid // 40
        published = (START + timedelta(days=day)).date().isoformat()
        rows.append(
            {
                "id": rowid,
                "url": f"https://day.example/{rowid}",
                "outlet": "day",
                "title": f"Article {rowid}",
                "text": _text(rng),
                "published": published,
                "published_month": published[:7],
                "language": "fr",
            }
        )
    db["articles"].insert_all(rows)
    db.conn.close()
    connection = sqlite3.connect(path)
    connection.create_function("veille_fts", 1, fts_query, deterministic=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("q", ["turquie", "ankara", "turquie ankara", '"gaz naturel"'])
def test_pages_of_articles_of_the_same_day_neither_repeat_nor_skip(same_day, q):
    expected = brute_newest(same_day, q)
    days = [row[0] for row in same_day.execute("select published from articles order by id")]
    assert len(set(days)) < len(days) / 20  # the floor falls among many equal dates
    pages = [canned(same_day, q, str(page), sort="date") for page in range(1, 8)]
    assert [i for page in pages for i in page] == expected[: 7 * SEARCH_PAGE_SIZE]
    rank = ranks(same_day, q)
    assert_top_by_rank(canned_pages(same_day, q), rank, PAGES * SEARCH_PAGE_SIZE)
