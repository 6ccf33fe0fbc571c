"""A crawl extracts in worker processes, and gives the same archive as one that does not."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import run_crawl

from archive.warc import iter_responses, warc_files


def crawl(seeds: Path, folder: Path, workers: int) -> tuple[Path, str]:
    db = folder / "archive.db"
    result = run_crawl(seeds, db, "-s", f"VEILLE_EXTRACT_WORKERS={workers}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return db, result.stderr


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory, demo_seeds):
    pooled = crawl(demo_seeds, tmp_path_factory.mktemp("pooled"), workers=2)
    in_process = crawl(demo_seeds, tmp_path_factory.mktemp("in-process"), workers=0)
    return pooled, in_process


def test_the_crawl_extracts_in_worker_processes(both):
    (_, log), (_, plain_log) = both
    found = re.search(r"Extraction: (\d+) pages in (\d+) worker processes \(pids ([\d, ]+)\)", log)
    assert found, log[-2000:]
    pages, workers = int(found.group(1)), int(found.group(2))
    assert pages >= 42 and workers >= 1
    pids = [int(p) for p in found.group(3).split(", ")]
    assert os.getpid() not in pids
    # The crawl process has exited: its workers must have gone with it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert "extracting in 2 worker processes" in log
    assert "extracting in-process" in plain_log and "Extraction:" not in plain_log


ARTICLE_COLUMNS = (
    "url, outlet, title, text, published, authors, credits, language, word_count, hash"
)


def test_pool_and_in_process_crawls_give_the_same_archive(both):
    (pooled, _), (plain, _) = both
    sql = f"select {ARTICLE_COLUMNS} from articles order by url"
    assert rows(pooled, sql) == rows(plain, sql)
    assert len(rows(pooled, sql)) == 42
    fetches = "select url, role, status, outcome, error from fetches"
    assert Counter(rows(pooled, fetches)) == Counter(rows(plain, fetches))
    counts = "select status, discovered, fetched, archived, skipped, failed from runs"
    assert rows(pooled, counts) == rows(plain, counts)
    (fetched, recorded) = rows(
        pooled, "select fetched, (select count(*) from fetches) from runs where id = 1"
    )[0]
    assert fetched == recorded


def test_every_fetch_is_captured_once(both):
    for db, _ in both:
        warc = db.parent / "warc"
        captured = Counter(
            response.page.final_url
            for path in warc_files(warc)
            for response in iter_responses(path)
        )
        fetched = Counter(
            url
            for (url,) in rows(
                db, "select coalesce(final_url, url) from fetches where status is not null"
            )
        )
        # robots.txt is fetched twice (the spider reads its Sitemap lines, Scrapy obeys it).
        assert captured == fetched
