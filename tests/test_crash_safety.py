"""Crawls killed with SIGKILL, then run again: nothing lost, nothing doubled, runs recorded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest
from conftest import ROOT, crawl_command, run_crawl, write_seeds

DEMO_SLUG = {"slug": "turquie-demain", "name": "Turquie Demain", "language": "fr"}


def archived_count(db) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("select count(*) from articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def crawl_until(seeds, db, more: int, timeout: float = 60) -> None:
    """Start a crawl and SIGKILL it once it has archived `more` articles."""
    articles = archived_count(db) + more
    process = subprocess.Popen(
        # A small extraction window: pages are written as they come, not all at the end
        # (on a loaded machine the workers start late), so the kill lands mid-crawl.
        crawl_command(
            seeds, db, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "VEILLE_EXTRACT_WINDOW=1"
        ),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while archived_count(db) < articles and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the crawl ended before it could be killed")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def check_consistent(db) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        rows, urls = conn.execute("select count(*), count(distinct url) from articles").fetchone()
        assert rows == urls, "an article was archived twice"
        orphans = conn.execute(
            "select count(*) from articles a where not exists "
            "(select 1 from article_versions v where v.article_id = a.id) or not exists "
            "(select 1 from article_urls u where u.article_id = a.id)"
        ).fetchone()[0]
        assert orphans == 0, "an article was written without its version or URLs"
        fts = conn.execute("select count(*) from articles_fts").fetchone()[0]
        assert fts == rows
    finally:
        conn.close()


def test_killed_crawls_resume_and_lose_nothing(tmp_path, slow_demo_url, demo_articles):
    seeds = write_seeds(tmp_path / "outlets.toml", [{**DEMO_SLUG, "homepage": slow_demo_url}])
    db = tmp_path / "archive.db"
    crawl_until(seeds, db, 3)  # early: downloads in flight, the queue on disk
    check_consistent(db)
    crawl_until(seeds, db, 5)  # a resumed run, killed mid-way through its writes
    check_consistent(db)
    assert (tmp_path / "jobs" / "archive-all").is_dir()  # the queue kept for resuming
    result = run_crawl(seeds, db, "--warc", str(tmp_path / "warc"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resuming the interrupted crawl" in result.stdout
    check_consistent(db)
    assert archived_count(db) == len(demo_articles)
    conn = sqlite3.connect(db)
    statuses = [s for (s,) in conn.execute("select status from runs order by id")]
    conn.close()
    assert statuses == ["interrupted", "interrupted", "finished"]
    assert not (tmp_path / "jobs" / "archive-all").exists()  # finished: nothing to resume


def test_a_second_crawl_on_the_same_archive_says_so_and_exits(tmp_path, slow_demo_url):
    seeds = write_seeds(tmp_path / "outlets.toml", [{**DEMO_SLUG, "homepage": slow_demo_url}])
    db = tmp_path / "archive.db"
    first = subprocess.Popen(
        crawl_command(seeds, db, "--warc", "none"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "archive.db.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_crawl(seeds, db, "--warc", "none")
        assert second.returncode == 3
        assert "is being written by a crawl (pid" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err[-2000:]
    conn = sqlite3.connect(db)
    runs = conn.execute("select count(*) from runs").fetchone()[0]
    conn.close()
    assert runs == 1  # the second crawl wrote nothing
