"""`python -m archive optimize`: the full-text index in one segment, the same answers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from conftest import ROOT

from archive.lock import ArchiveLock
from archive.optimize import fts_segments
from archive.search import search
from archive.store import open_db

WORDS = ["Ankara", "Bakou", "gaz", "naturel", "négociation", "Karabakh", "frontière", "Érevan"]


def archive_in_many_segments(path) -> None:
    db = open_db(path)
    db["outlets"].insert({"slug": "o", "name": "O", "homepage": "https://o.example/"})
    for batch in range(12):  # one FTS5 segment per committed batch, before automerge
        with db.conn:
            db["articles"].insert_all(
                {
                    "url": f"https://o.example/{batch}-{i}",
                    "outlet": "o",
                    "title": f"Article {batch}-{i}",
                    "text": " ".join(WORDS[(batch + i + k) % len(WORDS)] for k in range(30)),
                    "published": f"2024-01-{1 + (batch * 7 + i) % 28:02d}T{i % 24:02d}:00:00",
                }
                for i in range(40)
            )
    db.conn.close()


def answers(path) -> list:
    return [
        [(hit.id, hit.snippet) for hit in search(path, q, limit=50, newest_first=newest)]
        for q in ("Ankara", '"gaz naturel"', "négoci*", "Bakou Karabakh")
        for newest in (False, True)
    ]


def optimize(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archive", "optimize", "--db", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_optimize_merges_the_index_into_one_segment_and_changes_no_answer(tmp_path):
    path = tmp_path / "archive.db"
    archive_in_many_segments(path)
    with sqlite3.connect(path) as conn:
        before = fts_segments(conn)
    assert before > 1
    expected = answers(path)
    assert all(expected)

    done = optimize(path)
    assert done.returncode == 0, done.stderr
    assert f"{before} segment(s) merged into 1" in done.stdout
    with sqlite3.connect(path) as conn:
        assert fts_segments(conn) == 1
        assert conn.execute("insert into articles_fts(articles_fts) values ('integrity-check')")
    assert answers(path) == expected
    log = tmp_path / "archive.db-wal"
    assert not log.exists() or log.stat().st_size == 0


def test_optimize_refuses_while_a_crawl_writes(tmp_path):
    path = tmp_path / "archive.db"
    archive_in_many_segments(path)
    crawl = ArchiveLock(path).acquire("crawl")
    try:
        done = optimize(path)
    finally:
        crawl.release()
    assert done.returncode == 3
    assert "is being written by a crawl" in done.stderr
    with sqlite3.connect(path) as conn:
        assert fts_segments(conn) > 1
