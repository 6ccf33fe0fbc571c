"""A hostile outlet crawled through the real pipeline: every case survives, nothing is lost."""

from __future__ import annotations

import resource
import sqlite3

import pytest
from conftest import run_crawl, write_seeds
from fixtures import hostile_outlet
from fixtures.hostile_outlet import BAD, GOOD, SECRET

SETTINGS = [
    "-s",
    "DOWNLOAD_TIMEOUT=1",
    "-s",
    "DOWNLOAD_MAXSIZE=1048576",
    "-s",
    "DOWNLOAD_WARNSIZE=524288",
    "-s",
    "REDIRECT_MAX_TIMES=5",
]


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    server, url = hostile_outlet.start()
    folder = tmp_path_factory.mktemp("hostile")
    seeds = write_seeds(
        folder / "outlets.toml", [{"slug": "hostile", "name": "Hostile", "homepage": url}]
    )
    db = folder / "hostile.db"
    result = run_crawl(seeds, db, *SETTINGS)
    server.shutdown()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    yield result, conn, server.hits, url, peak_kb
    conn.close()


def fetches_for(conn, slug: str) -> list[sqlite3.Row]:
    return conn.execute("select * from fetches where url like ?", [f"%/{slug}/%"]).fetchall()


def test_the_crawl_finishes_cleanly(hostile_crawl):
    result, conn, *_ = hostile_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (status,) = conn.execute("select status from runs").fetchone()
    assert status == "finished"
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_every_good_article_is_archived_exactly_once(hostile_crawl):
    _, conn, *_ = hostile_crawl
    titles = [row["title"] for row in conn.execute("select title from articles")]
    assert sorted(titles) == sorted(GOOD.values())


def test_variants_of_one_article_are_fetched_once(hostile_crawl):
    _, conn, hits, *_ = hostile_crawl
    slug = "2024/05/04/un-article-partage-avec-des-parametres"
    assert len(fetches_for(conn, slug)) == 1
    assert hits[f"/{slug}/"] == 1 and hits[f"/{slug}/amp/"] == 0 and hits[f"/{slug}"] == 0


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("slow", "timed out"),
        ("gone404", "HTTP 404"),
        ("gone410", "HTTP 410"),
        ("loop", "redirect"),
        ("chain", "redirect"),
        ("offsite", "off-site redirect"),
        ("huge", "size"),
        ("bomb", "size"),
        ("binary", "not an article"),
        ("empty", "empty page"),
    ],
)
def test_each_failure_is_a_fetch_row_and_a_log_line(hostile_crawl, case, expected):
    result, conn, *_ = hostile_crawl
    rows = fetches_for(conn, BAD[case])
    assert len(rows) == 1, [dict(r) for r in rows]
    row = rows[0]
    reason = (row["error"] or "").lower()
    assert row["outcome"] in {"failed", "not-article"}
    if expected == "not an article":
        assert row["outcome"] == "not-article" and reason
    else:
        assert expected.lower() in reason, dict(row)
    assert BAD[case] in result.stderr  # the log names the URL


def test_robots_disallowed_section_is_not_fetched(hostile_crawl):
    result, conn, hits, *_ = hostile_crawl
    assert hits[f"/{BAD['private']}/"] == 0
    assert fetches_for(conn, BAD["private"]) == []
    assert "disallowed by robots.txt 1" in result.stdout


def test_traps_and_loops_stay_bounded(hostile_crawl):
    _, conn, hits, *_ = hostile_crawl
    assert sum(n for path, n in hits.items() if path.startswith("/agenda")) == 0
    assert hits["/category/economie/"] <= 3
    assert hits["/sitemap_index.xml"] <= 2  # an index that lists itself is read once
    assert sum(n for path, n in hits.items() if path.startswith("/chaine-")) <= 6
    (total,) = conn.execute("select count(*) from fetches").fetchone()
    assert total < 60


def test_hostile_xml_and_feeds_do_no_harm(hostile_crawl):
    _, conn, *_ = hostile_crawl
    for name in ("sitemap-bombe.xml", "sitemap-casse.xml", "feed-bomb"):
        (row,) = conn.execute("select outcome from fetches where url like ?", [f"%/{name}"])
        assert row["outcome"] == "recorded"
    feed_article = conn.execute(
        "select found_via from articles where url like '%liens-relatifs%'"
    ).fetchone()
    assert feed_article["found_via"] == "rss"  # reached only through the feed's relative link
    assert (
        conn.execute(
            "select count(*) from fetches where url like 'ftp:%' "
            "or url like 'mailto:%' or url like 'javascript:%'"
        ).fetchone()[0]
        == 0
    )


def test_memory_stays_bounded(hostile_crawl):
    *_, peak_kb = hostile_crawl
    assert peak_kb < 600 * 1024, f"crawl peaked at {peak_kb / 1024:.0f} MB"


def test_credentials_never_reach_logs_or_the_archive(hostile_crawl):
    result, conn, hits, *_ = hostile_crawl
    assert hits[f"/{BAD['gone404']}/"] >= 1  # the redirect was followed
    assert SECRET not in result.stderr + result.stdout
    dump = "\n".join(conn.iterdump())
    assert SECRET not in dump
