"""The whole pipeline on the demo outlet: a real Scrapy crawl into a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

from conftest import ROOT

from archive.search import search


def normalise(text: str) -> str:
    return " ".join(text.split())


def expected_url(base: str, article: dict) -> str:
    day = article["published"][:10].replace("-", "/")
    return f"{base}{day}/{article['slug']}/"


def archived(demo_crawl) -> dict[str, dict]:
    conn = sqlite3.connect(demo_crawl.db)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("select * from articles").fetchall()
    finally:
        conn.close()
    return {row["url"]: dict(row) for row in rows}


def test_every_demo_article_archived_exactly_once(demo_crawl, demo_articles):
    rows = archived(demo_crawl)
    expected = {expected_url(demo_crawl.base_url, a) for a in demo_articles}
    assert set(rows) == expected
    assert len(rows) == len(demo_articles)


def test_titles_dates_and_authors(demo_crawl, demo_articles):
    rows = archived(demo_crawl)
    for article in demo_articles:
        row = rows[expected_url(demo_crawl.base_url, article)]
        assert row["title"] == article["title"]
        assert row["published"] == article["published"]
        assert row["published_month"] == article["published"][:7]
        assert json.loads(row["authors"]) == [article["author"]]
        assert row["language"] == "fr"
        assert row["outlet"] == "turquie-demain"


def test_bodies_hold_their_sentences_and_no_boilerplate(demo_crawl, demo_articles):
    rows = archived(demo_crawl)
    for article in demo_articles:
        row = rows[expected_url(demo_crawl.base_url, article)]
        text = row["text"]
        for paragraph in article["paragraphs"]:
            assert normalise(paragraph) in normalise(text), (article["id"], paragraph[:60])
        lines = [line.strip() for line in text.splitlines()]
        assert "0" not in lines, article["id"]  # the comment counter under the headline
        assert not {"AA", "TRT FR"} & set(lines), article["id"]  # bare credit lines
        assert "Partager cet article" not in text
        assert "Partagez." not in lines
        assert "propos de l'auteur" not in text and "propos de l’auteur" not in text


def test_agency_credits_become_a_column(demo_crawl, demo_articles):
    rows = archived(demo_crawl)
    names = {"AA": ["Anadolu"], "TRT FR": ["TRT"], None: None}
    for article in demo_articles:
        row = rows[expected_url(demo_crawl.base_url, article)]
        credits = json.loads(row["credits"]) if row["credits"] else None
        assert credits == names[article["credit"]], article["id"]


def test_charset_only_in_http_header_is_decoded(demo_crawl, demo_articles):
    rows = archived(demo_crawl)
    legacy = [a for a in demo_articles if a["id"] in (1, 2, 3)]
    assert legacy
    for article in legacy:
        row = rows[expected_url(demo_crawl.base_url, article)]
        assert row["title"] == article["title"]
        assert normalise(article["paragraphs"][0]) in normalise(row["text"])
        assert "Ã" not in row["text"] and "\ufffd" not in row["text"]


def test_full_text_search_folds_accents(demo_crawl):
    karabakh = search(demo_crawl.db, "Karabakh")
    assert karabakh and all("karabakh" in normalise(h.snippet).lower() for h in karabakh)
    erevan = search(demo_crawl.db, "Erevan")
    assert erevan, "Erevan must find Érevan"
    assert any("Érevan" in hit.snippet for hit in erevan)
    phrase = search(demo_crawl.db, '"Haut-Karabakh"')
    assert {h.url for h in phrase} <= {h.url for h in karabakh}


def test_fts_is_kept_in_sync_by_triggers(demo_crawl):
    (count,) = demo_crawl.query("select count(*) from articles_fts")[0]
    (articles,) = demo_crawl.query("select count(*) from articles")[0]
    assert count == articles
    triggers = {
        name
        for (name,) in demo_crawl.query("select name from sqlite_master where type = 'trigger'")
    }
    assert {"articles_ai", "articles_ad", "articles_au"} <= triggers
    (journal,) = demo_crawl.query("pragma journal_mode")[0]
    assert journal == "wal"


def test_first_run_counts_and_every_route_recorded(demo_crawl, demo_articles):
    run = demo_crawl.query(
        "select status, discovered, fetched, archived, failed from runs where id = 1"
    )[0]
    status, discovered, fetched, archived_count, failed = run
    assert status == "finished"
    assert archived_count == len(demo_articles)
    assert discovered >= len(demo_articles)
    assert failed == 0
    roles = {
        role for (role,) in demo_crawl.query("select distinct role from fetches where run_id = 1")
    }
    assert {"robots", "homepage", "hub", "feed", "sitemap", "article"} <= roles
    sitemap_urls = {
        u
        for (u,) in demo_crawl.query(
            "select url from fetches where run_id = 1 and role = 'sitemap'"
        )
    }
    assert any(u.endswith(".xml.gz") for u in sitemap_urls)
    assert any("news" in u for u in sitemap_urls)
    (fetched_rows,) = demo_crawl.query("select count(*) from fetches where run_id = 1")[0]
    assert fetched == fetched_rows


def test_article_found_by_several_routes_is_fetched_once(demo_crawl):
    rows = demo_crawl.query(
        "select url, count(*) from fetches where run_id = 1 and role = 'article' "
        "group by url having count(*) > 1"
    )
    assert rows == []
    amp = demo_crawl.query("select count(*) from fetches where url like '%/amp/%'")[0][0]
    tracked = demo_crawl.query("select count(*) from fetches where url like '%utm_%'")[0][0]
    assert (amp, tracked) == (0, 0)


def test_crawler_traps_are_not_followed(demo_crawl):
    (trapped,) = demo_crawl.query(
        "select count(*) from fetches where url like '%/agenda/%' or url like '%?s=%'"
    )[0]
    assert trapped == 0
    (requests,) = demo_crawl.query("select count(*) from fetches where run_id = 1")[0]
    assert requests < 200


def test_second_crawl_archives_nothing_and_refetches_no_article(demo_crawl):
    status, archived_count = demo_crawl.query("select status, archived from runs where id = 2")[0]
    assert (status, archived_count) == ("finished", 0)
    (article_fetches,) = demo_crawl.query(
        "select count(*) from fetches where run_id = 2 and role = 'article'"
    )[0]
    assert article_fetches == 0
    assert "archived 0" in demo_crawl.second.stdout


def test_crawl_prints_a_summary_without_tracebacks(demo_crawl, demo_articles):
    out = demo_crawl.first.stdout
    assert re.search(rf"archived {len(demo_articles)}\b", out)
    assert "per archived article" in out
    assert "Traceback" not in demo_crawl.first.stderr + demo_crawl.second.stderr


def test_make_search_prints_best_matches(demo_crawl):
    result = subprocess.run(
        [sys.executable, "-m", "archive", "search", "--db", str(demo_crawl.db), "Erevan"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "turquie-demain" in result.stdout
    assert demo_crawl.base_url in result.stdout
    assert "**Érevan**" in result.stdout


def test_make_search_pages_through_the_matches(demo_crawl):
    def listed(*args: str) -> tuple[list[str], str]:
        command = [sys.executable, "-m", "archive", "search", "--db", str(demo_crawl.db), *args]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        numbered = re.findall(r"^ *(\d+)\. ", result.stdout, flags=re.M)
        return numbered, result.stdout + result.stderr

    (total,) = demo_crawl.query(
        "select count(*) from articles_fts where articles_fts match 'Ankara'"
    )[0]
    assert total > 4
    first, _ = listed("--limit", "4", "Ankara")
    second, second_out = listed("--limit", "4", "--page", "2", "Ankara")
    _, both_out = listed("--limit", "8", "Ankara")
    assert first == ["1", "2", "3", "4"]
    assert second == [str(n) for n in range(5, min(total, 8) + 1)]
    # The second page is what follows the first: the same articles as rows 5 to 8.
    urls = re.findall(r" · (http\S+)", both_out)
    assert re.findall(r" · (http\S+)", second_out) == urls[4:8]

    empty, out = listed("--limit", "4", "--page", "50", "Ankara")
    assert empty == [] and "Page 50 is empty: 'Ankara' has at most 196 matches." in out
    _, out = listed("--page", "0", "Ankara")
    assert "error: --page must be between 1 and 100" in out
