"""The extraction pool: `prepare` runs in worker processes and gives what it gives in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

import archive.ingest as ingest
from archive.ingest import Archive, Prepared, prepare
from archive.page import ROLES, RawPage
from archive.pool import ExtractionPool, needs_extraction


def fetched(url: str, role: str = "article") -> RawPage:
    with urllib.request.urlopen(url, timeout=10) as response:
        return RawPage(
            url=url,
            final_url=response.url,
            outlet="turquie-demain",
            role=role,
            status=response.status,
            headers=dict(response.headers.items()),
            body=response.read(),
            fetched_at="2024-06-01T12:00:00+00:00",
            found_via="sitemap",
        )


@pytest.fixture(scope="module")
def demo_pages(demo_url, demo_articles, demo_site) -> list[RawPage]:
    paths = [demo_site.article_path(a) for a in demo_articles[:6]]
    return [fetched(demo_url.rstrip("/") + path) for path in paths]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pool_extracts_in_other_processes_as_in_process(demo_pages):
    pool = ExtractionPool(workers=2)
    try:
        futures = [pool.submit(page) for page in demo_pages]
        results = [future.result(timeout=120) for future in futures]
    finally:
        pool.close()
    assert all(result.pid != os.getpid() for result in results)
    for result, page in zip(results, demo_pages, strict=True):
        assert result.prepared.page is page  # the caller's own page, not a copy
        assert result.prepared.extracted is not None
        assert result.prepared.extracted.is_article
        assert result.prepared == prepare(page)
    assert pool.pages == len(demo_pages)
    # close() waits for the workers: none outlives the pool.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pool.pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pool.pids)


def test_only_pages_prepare_extracts_go_to_the_pool(monkeypatch):
    """needs_extraction must agree with prepare, or pages are extracted in the wrong place."""
    calls = []

    def recording_extract(*args, **kwargs):
        calls.append(args)
        return ingest.Extracted(is_article=False, reason="test")

    monkeypatch.setattr(ingest, "extract", recording_extract)
    html = {"Content-Type": "text/html; charset=utf-8"}
    for role in ROLES:
        for status, error in ((200, None), (304, None), (404, None), (500, None), (None, "DNS")):
            page = RawPage(
                url="http://127.0.0.1/2024/01/01/a/",
                outlet="x",
                role=role,
                fetched_at="2024-01-01T00:00:00+00:00",
                status=status,
                error=error,
                headers=html,
                body=b"<html><body><p>Texte.</p></body></html>",
            )
            calls.clear()
            prepare(page)
            assert bool(calls) == needs_extraction(page), (role, status, error)


def test_store_many_writes_what_store_writes(tmp_path, demo_pages):
    prepared = [prepare(page) for page in demo_pages]
    prepared.append(prepare(demo_pages[0]))  # the same article again: a duplicate
    one_by_one = Archive(tmp_path / "one.db")
    batched = Archive(tmp_path / "many.db")
    try:
        singles = [one_by_one.store(p, run_id=1) for p in prepared]
        many = batched.store_many(prepared, run_id=1)
        assert [o.kind for o in many] == [o.kind for o in singles]
        assert [o.kind for o in many].count("duplicate") == 1
        for table in ("articles", "article_urls", "article_versions", "fetches", "articles_fts"):
            columns = "title, text" if table == "articles_fts" else "*"
            sql = f"select {columns} from {table} order by 1, 2"
            assert batched.db.execute(sql).fetchall() == one_by_one.db.execute(sql).fetchall()
    finally:
        one_by_one.close()
        batched.close()


def test_a_page_that_cannot_be_stored_does_not_lose_its_batch(tmp_path, demo_pages, caplog):
    good = [prepare(page) for page in demo_pages[:3]]
    broken = Prepared(demo_pages[3])  # neither an outcome nor an extraction: store fails
    archive = Archive(tmp_path / "a.db")
    try:
        outcomes = archive.store_many([good[0], broken, good[1], good[2]], run_id=1)
        assert [o.kind if o else None for o in outcomes] == [
            "archived",
            None,
            "archived",
            "archived",
        ]
        (articles,) = archive.db.execute("select count(*) from articles").fetchone()
        (fetches,) = archive.db.execute("select count(*) from fetches").fetchone()
        assert (articles, fetches) == (3, 3)
        assert demo_pages[3].url in caplog.text
    finally:
        archive.close()


OWNER = """
import sys
from archive.page import RawPage
from archive.pool import ExtractionPool

pool = ExtractionPool(workers=1)
page = RawPage(url="http://127.0.0.1/", outlet="x", role="hub", fetched_at="2024-01-01", status=200)
print(pool.submit(page).result().pid, flush=True)
sys.stdin.read()  # wait to be killed
"""


def test_workers_end_when_their_owner_is_killed():
    """A crawl killed with SIGKILL (or by the OOM killer) leaves no worker behind."""
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        worker = int(owner.stdout.readline())
        assert alive(worker)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker)
