"""Datasette answers searches while a crawl writes into the same archive."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
from conftest import ROOT, crawl_command, free_port, wait_for_port, write_seeds

from archive.store import check_archive, open_db

DEMO = {"slug": "turquie-demain", "name": "Turquie Demain", "language": "fr"}


def test_searches_succeed_and_grow_while_a_crawl_writes(tmp_path, slow_demo_url, demo_articles):
    db = tmp_path / "live.db"
    check_archive(db)  # Datasette needs the file before the crawl creates its rows
    seeds = write_seeds(tmp_path / "outlets.toml", [{**DEMO, "homepage": slow_demo_url}])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    crawl = subprocess.Popen(
        crawl_command(seeds, db, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    counts: list[int] = []
    failures: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while crawl.poll() is None or len(counts) < 5:
                response = client.get(
                    "/live/articles.json", params={"_search": "Turquie", "_size": 0}
                )
                if response.status_code != 200 or "locked" in response.text:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    counts.append(response.json()["filtered_table_rows_count"])
                time.sleep(0.05)
        _out, err = crawl.communicate(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert crawl.returncode == 0, err[-2000:]
    assert "locked" not in err
    assert failures == []
    assert len(counts) >= 10
    assert counts == sorted(counts), "results went backwards"
    assert counts[0] < counts[-1], "results did not grow while the crawl wrote"
    # The reader saw the archive grow while the crawl ran, not only once it was over.
    assert len(set(counts)) >= 2


def test_opening_an_archive_again_leaves_its_schema_alone(tmp_path):
    # Every crawl, writer and command opens the archive while Datasette may be reading
    # it: a schema rewritten at each open (a view or trigger dropped and created again)
    # breaks the readers' statements mid-query.
    db = tmp_path / "archive.db"
    versions = []
    for _ in range(3):
        opened = open_db(db)
        versions.append(opened.execute("pragma schema_version").fetchone()[0])
        opened.conn.close()
    assert versions[1] == versions[0] and versions[2] == versions[0]
