"""Distributed mode for real: a redis-server on 127.0.0.1, worker and writer processes.

Two workers share the demo outlet's crawl through Redis and one writer archives it;
a worker killed with SIGKILL mid-crawl loses nothing. Workers run with Scrapy's
deprecation warnings turned into errors (scrapy-redis 0.9.1 predates Scrapy 2.13).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from conftest import ROOT, free_port, wait_for_port, write_seeds

from archive.distributed import (
    Keys,
    Scope,
    decode_message,
    encode_page,
    encode_seen,
    publish_scope,
)
from archive.page import RawPage
from archive.urls import url_key
from archive.writer import Writer
from crawler.distributed import RequestCodec

REDIS_SERVER = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
if REDIS_SERVER is None:
    if os.environ.get("CI"):
        raise RuntimeError("no redis-server: .ci/run installs Debian's redis-server")
    pytest.skip("no redis-server (apt-get install redis-server)", allow_module_level=True)

DEMO_OUTLET = {"slug": "turquie-demain", "name": "Turquie Demain", "language": "fr"}
# Polite enough that two workers both get a share of the demo outlet, fast otherwise.
WORKER_ARGS = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=2",
    "-s",
    "RETRY_BACKOFF_BASE=0.1",
    "-s",
    "VEILLE_WORKER_TTL=2",  # a killed worker is noticed within 2 s
]
# `python -W error::scrapy.exceptions.ScrapyDeprecationWarning` is refused by CPython
# (the category's module is not importable that early), so the filter is set in code.
STRICT_WORKER = (
    "import sys, warnings\n"
    "from scrapy.exceptions import ScrapyDeprecationWarning\n"
    "warnings.filterwarnings('error', category=ScrapyDeprecationWarning)\n"
    "from crawler.distributed import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=15)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url(redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


class Processes:
    """Worker and writer processes of one test; whatever is left is killed at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append((process, log))
        return process

    def worker(self, name: str, seeds: Path, redis_url: str, idle: float = 1):
        args = ["--seeds", str(seeds), "--redis-url", redis_url, "--idle", str(idle)]
        return self.start(name, ["-c", STRICT_WORKER, *args, *WORKER_ARGS])

    def writer(self, db: Path, redis_url: str, *extra: str):
        args = ["--db", str(db), "--redis-url", redis_url, "--warc", str(db.parent / "warc")]
        return self.start("writer", ["-m", "archive.writer", *args, "--wait", "60", *extra])

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def finish(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for process, log in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{log.stem} did not exit:\n{log.read_text()[-3000:]}")

    def kill_all(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path):
    group = Processes(tmp_path)
    yield group
    group.kill_all()


def demo_seeds(folder: Path, url: str) -> Path:
    return write_seeds(folder / "outlets.toml", [{**DEMO_OUTLET, "homepage": url}])


def expected_urls(base: str, articles: list[dict]) -> set[str]:
    return {f"{base}{a['published'][:10].replace('-', '/')}/{a['slug']}/" for a in articles}


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_clean_exit(processes: Processes, name: str, process: subprocess.Popen) -> str:
    log = processes.log(name)
    assert process.returncode == 0, log[-3000:]
    assert "ScrapyDeprecationWarning" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    return log


def check_archived_once(db: Path, base: str, articles: list[dict]) -> None:
    urls = [url for (url,) in query(db, "select url from articles")]
    assert len(urls) == len(set(urls)), "an article was archived twice"
    assert set(urls) == expected_urls(base, articles)


def sent_pages(log: str) -> int:
    line = next(line for line in log.splitlines() if line.startswith("Worker "))
    return int(line.split(" pages sent")[0].rsplit(" ", 1)[1])


def test_two_workers_and_a_writer_archive_every_article_once(
    tmp_path, redis_url, demo_url, demo_articles, processes
):
    seeds = demo_seeds(tmp_path, demo_url)
    db = tmp_path / "archive.db"
    # Extraction in the writer's own process: a pool's start-up would dominate so small a run.
    writer = processes.writer(db, redis_url, "--workers", "0")
    first = processes.worker("worker-1", seeds, redis_url)
    second = processes.worker("worker-2", seeds, redis_url)
    processes.finish()

    workers = {"worker-1": first, "worker-2": second}
    logs = [check_clean_exit(processes, name, process) for name, process in workers.items()]
    # Both took requests from the shared queue (beyond their own robots.txt check).
    assert all(sent_pages(log) > 1 for log in logs), logs
    assert sum("starts a new run" in log for log in logs) == 1  # one seeded, one joined
    assert writer.returncode == 0, processes.log("writer")[-3000:]
    check_archived_once(db, demo_url, demo_articles)

    # Seeded once, and the shared filter fetched no page twice (robots.txt is also
    # checked by each worker's RobotsTxtMiddleware, recorded as "robots-check").
    assert query(db, "select count(*) from fetches where role = 'homepage'") == [(1,)]
    twice = query(
        db,
        "select url from fetches where found_via is not 'robots-check' "
        "group by url having count(*) > 1",
    )
    assert twice == []
    [run] = query(db, "select kind, status, archived, discovered, requests from runs")
    assert run[:4] == ("distributed", "finished", len(demo_articles), len(demo_articles))
    assert run[4] >= len(demo_articles)  # requests, counted by the workers

    # Workers have no database: the writer tells them what is archived, through Redis.
    # On a fresh Redis, a second run's writer publishes it from the archive itself,
    # and the second run fetches no article again.
    client = redis.Redis.from_url(redis_url)
    archived = client.smembers(Keys().archived)
    assert {url_key(u).encode() for u in expected_urls(demo_url, demo_articles)} <= archived
    client.flushdb()
    article_fetches = query(db, "select count(*) from fetches where role = 'article'")
    writer = processes.writer(db, redis_url, "--workers", "0")
    again = processes.worker("worker-again", seeds, redis_url)
    processes.finish()
    check_clean_exit(processes, "worker-again", again)
    assert writer.returncode == 0, processes.log("writer")[-3000:]
    assert query(db, "select count(*) from fetches where role = 'article'") == article_fetches
    second_run = query(db, "select kind, status, archived, skipped from runs where id = 2")[0]
    assert second_run[:3] == ("distributed", "finished", 0)
    assert second_run[3] >= len(demo_articles)  # listed again, skipped as archived
    check_archived_once(db, demo_url, demo_articles)


def worker_id(client: redis.Redis, pid: int) -> str | None:
    for member in client.smembers(Keys().workers):
        worker = member.decode()
        if f"-{pid}-" in worker:
            return worker
    return None


def test_killing_a_worker_mid_crawl_loses_nothing(
    tmp_path, redis_url, slow_demo_url, demo_articles, processes
):
    seeds = demo_seeds(tmp_path, slow_demo_url)
    db = tmp_path / "archive.db"
    client = redis.Redis.from_url(redis_url)
    writer = processes.writer(db, redis_url)
    victim = processes.worker("victim", seeds, redis_url)
    survivor = processes.worker("survivor", seeds, redis_url, idle=5)  # outlives the TTL

    # Kill the victim mid-crawl: once it has sent pages to the writer, while it holds
    # article requests it has taken from the queue (downloading, or handing pages on).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert victim.poll() is None, processes.log("victim")[-3000:]
        wid = worker_id(client, victim.pid)
        sent = int(client.get(Keys().alive(wid)) or 0) if wid else 0
        taken = client.lrange(Keys().inflight(wid), 0, -1) if wid else []
        if sent >= 5 and any(b'"role":"article"' in request for request in taken):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the victim never held article requests")
    os.kill(victim.pid, signal.SIGKILL)
    processes.finish()

    log = check_clean_exit(processes, "survivor", survivor)
    # The survivor noticed (its heartbeat expired) and put back what the victim held.
    requeued = re.search(r"Worker \S+ is gone: (\d+) requests", log)
    writer_log = processes.log("writer")
    # Whoever noticed first (the survivor, or the writer once no worker was left) put
    # back what the victim held; what matters is below: nothing lost, nothing doubled.
    assert requeued or "is gone; " in writer_log, log[-3000:]
    assert writer.returncode == 0, processes.log("writer")[-3000:]
    check_archived_once(db, slow_demo_url, demo_articles)
    assert query(db, "select kind, status from runs") == [("distributed", "finished")]
    assert client.llen(Keys().requests) == 0
    assert client.exists(Keys().inflight(wid)) == 0


def test_a_killed_writer_s_batch_is_stored_by_the_next_one(tmp_path, redis_url, demo_url):
    """Pages a writer had taken but not committed are put back, and stored once."""
    client = redis.Redis.from_url(redis_url)
    keys = Keys()
    scope = Scope.from_file(str(demo_seeds(tmp_path, demo_url)))
    publish_scope(client, keys, scope)
    client.set(keys.scope, scope.digest)

    def hub(n: int) -> RawPage:
        return RawPage(
            url=f"{demo_url}category/{n}/",
            outlet="turquie-demain",
            role="hub",
            fetched_at="2024-05-01T00:00:00+00:00",
            status=200,
            body=b"<html>section</html>",
        )

    # A dead writer of this machine (an ended pid) left one page mid-batch.
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    client.set(keys.writer, f"{socket.gethostname()}-{ended.stdout.strip()}-dead00")
    client.lpush(keys.processing, encode_page(hub(1), scope.digest))
    client.lpush(keys.pages, encode_page(hub(2), scope.digest))
    writer = Writer(tmp_path / "archive.db", client, keys, warc_root=None, workers=0, wait=1)
    assert writer.run() == "finished"
    rows = query(tmp_path / "archive.db", "select url, run_id from fetches order by url")
    assert rows == [(hub(1).url, 1), (hub(2).url, 1)]
    assert client.llen(keys.processing) == 0 and client.exists(keys.writer) == 0


def test_requests_and_pages_cross_redis_as_plain_data():
    """No pickle on either queue: bytes survive, and nothing else than data comes back."""
    page = RawPage(
        url="http://example.org/a/",
        outlet="x",
        role="article",
        fetched_at="2024-01-01T00:00:00+00:00",
        status=200,
        headers={"Content-Type": "text/html; charset=iso-8859-1"},
        body="Érevan\n\x00".encode("latin-1") * 100,
        hint_title="Titre\nsur deux lignes",
    )
    message = decode_message(encode_page(page, "abc"))
    assert (message.kind, message.scope, message.page) == ("page", "abc", page)
    seen = decode_message(encode_seen("http://example.org/b/", "2024-01-02T00:00:00+00:00", "abc"))
    assert (seen.kind, seen.url) == ("seen", "http://example.org/b/")

    request = {
        "url": "http://example.org/",
        "headers": {b"If-None-Match": [b'"etag"']},
        "body": b"\xff\x00",
        "meta": {"hints": {"title": "É"}, "redirect_urls": ["http://a/"], "$odd": 1},
    }
    assert RequestCodec.loads(RequestCodec.dumps(request)) == request
    with pytest.raises(TypeError):
        RequestCodec.dumps({"meta": {"when": object()}})
