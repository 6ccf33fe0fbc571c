"""SINCE skips older articles before fetching them, using feed, sitemap and URL dates."""

from __future__ import annotations

import sqlite3

from conftest import run_crawl

SINCE = "2024-05-01"


def test_since_archives_only_newer_articles_and_fetches_no_older_one(
    tmp_path, demo_seeds, demo_articles
):
    db = tmp_path / "since.db"
    result = run_crawl(demo_seeds, db, "--since", SINCE)
    assert result.returncode == 0, result.stderr[-2000:]
    newer = {a["title"] for a in demo_articles if a["published"][:10] >= SINCE}
    assert 0 < len(newer) < len(demo_articles)
    conn = sqlite3.connect(db)
    titles = {t for (t,) in conn.execute("select title from articles")}
    fetched_days = [
        url.split("/")[3:6]
        for (url,) in conn.execute("select url from fetches where role = 'article'")
    ]
    since_recorded = conn.execute("select since from runs").fetchone()[0]
    conn.close()
    assert titles == newer
    assert all("-".join(day) >= SINCE for day in fetched_days), fetched_days
    assert since_recorded == SINCE
    assert "older than SINCE" in result.stdout
