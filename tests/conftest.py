"""Shared fixtures: one demo outlet server and one pair of demo crawls per session.

Every test here talks to real parts: the demo outlet is a real HTTP server on
127.0.0.1, crawls are real `python -m crawler` processes, the archive is a real
SQLite file and Datasette a real server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "tests" / "fixtures" / "demo_outlet"

# The demo outlet is local and ours: crawl it at full speed.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "RETRY_BACKOFF_BASE=0.1",
]


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo_site() -> ModuleType:
    return load_module(DEMO_DIR / "server.py", "demo_outlet_server")


@pytest.fixture(scope="session")
def demo_articles(demo_site) -> list[dict]:
    return demo_site.load_articles()


def start_server(make_server) -> tuple[object, str]:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/"


@pytest.fixture(scope="session")
def demo_url(demo_site):
    server, url = start_server(demo_site.make_server)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def slow_demo_url(demo_site):
    """The demo outlet answering each request after 0.1 s, so a crawl lasts long enough
    to be killed in the middle of downloads and writes."""

    class Slow(demo_site.DemoOutletHandler):
        def do_GET(self):
            time.sleep(0.1)
            super().do_GET()

    server = demo_site.make_server("127.0.0.1", 0)
    server.RequestHandlerClass = Slow
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def write_seeds(path: Path, outlets: list[dict]) -> Path:
    lines = []
    for outlet in outlets:
        lines.append("[[outlet]]")
        for key, value in outlet.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


DEMO_OUTLET = {"slug": "turquie-demain", "name": "Turquie Demain", "language": "fr"}


@pytest.fixture(scope="session")
def demo_seeds(tmp_path_factory, demo_url) -> Path:
    folder = tmp_path_factory.mktemp("seeds")
    return write_seeds(folder / "outlets.toml", [{**DEMO_OUTLET, "homepage": demo_url}])


def crawl_command(seeds: Path, db: Path, *extra: str) -> list[str]:
    """`python -m crawler` at full speed; raw captures beside the database unless given."""
    warc = [] if "--warc" in extra else ["--warc", str(db.parent / "warc")]
    command = ["--seeds", str(seeds), "--db", str(db), *FAST, *warc, *extra]
    return [sys.executable, "-m", "crawler", *command]


def run_crawl(
    seeds: Path, db: Path, *extra: str, timeout: int = 300
) -> subprocess.CompletedProcess:
    """A real crawl process, run to its end."""
    return subprocess.run(
        crawl_command(seeds, db, *extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query_db(db: Path, sql: str, params=()) -> list[tuple]:
    """Rows of one query on an archive file, the connection closed afterwards."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@dataclass
class DemoCrawl:
    db: Path
    warc: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    base_url: str

    def query(self, sql: str, params=()) -> list[tuple]:
        return query_db(self.db, sql, params)


@pytest.fixture(scope="session")
def demo_crawl(tmp_path_factory, demo_seeds, demo_url) -> DemoCrawl:
    db = tmp_path_factory.mktemp("archive") / "demo.db"
    first = run_crawl(demo_seeds, db)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_crawl(demo_seeds, db)
    assert second.returncode == 0, second.stdout + second.stderr
    return DemoCrawl(db=db, warc=db.parent / "warc", first=first, second=second, base_url=demo_url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@contextlib.contextmanager
def serving(command: list[str], port: int, output=subprocess.DEVNULL):
    """Run a server process listening on `port`; yields its base URL, stops it after."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def datasette_url(demo_crawl):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "archive",
        "serve",
        "--db",
        str(demo_crawl.db),
        "--port",
        str(port),
        "--warc",
        str(demo_crawl.warc),
    ]
    with serving(command, port, output=subprocess.PIPE) as url:
        yield url
