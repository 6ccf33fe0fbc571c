"""Bad input and unfriendly outlets: clear messages, nothing lost, the crawl goes on."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from conftest import DEMO_OUTLET, ROOT, run_crawl, write_seeds

ARTICLE_PATH = "/2024/05/14/la-turquie-accueille-un-sommet-sur-la-securite-alimentaire/"
PRIVATE_PATH = "/prive/2024/05/14/une-page-que-robots-txt-interdit-aux-robots/"
ARTICLE_HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>La Turquie accueille un sommet sur la sécurité alimentaire – Flaky</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-14T10:00:00+03:00">
</head><body><nav><a href="/">Accueil</a></nav><article><h1>La Turquie accueille un sommet
sur la sécurité alimentaire</h1><div class="entry-content">{paragraphs}</div></article>
<footer>© Flaky</footer></body></html>"""
PARAGRAPH = (
    "<p>Les délégations de vingt pays se sont retrouvées à Istanbul pour discuter des corridors "
    "céréaliers, des stocks régionaux et du financement des agriculteurs touchés par la "
    "sécheresse, a indiqué le ministère turc de l’Agriculture dans un communiqué publié mardi.</p>"
)


class FlakyOutlet(BaseHTTPRequestHandler):
    """An outlet that answers 429 with Retry-After, then 503, before serving its article."""

    hits: ClassVar[list[tuple[float, str, int]]] = []
    agents: ClassVar[set[str]] = set()

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: str = "", headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path
        self.agents.add(self.headers.get("User-Agent", ""))
        tries = sum(1 for _, p, _ in self.hits if p == path)
        if path == ARTICLE_PATH and tries == 0:
            status, headers = 429, {"Retry-After": "2"}
        elif path == ARTICLE_PATH and tries == 1:
            status, headers = 503, {}
        elif path == ARTICLE_PATH or path == "/":
            status, headers = 200, {}
        else:
            status, headers = 404, {}
        self.hits.append((time.monotonic(), path, status))
        if path == "/robots.txt":
            self._send(200, "User-agent: *\nDisallow: /prive/\n")
        elif path == "/":
            links = f'<a href="{ARTICLE_PATH}">Sommet</a><a href="{PRIVATE_PATH}">Privé</a>'
            self._send(200, f"<html><body>{links}</body></html>")
        elif status == 200:
            self._send(200, ARTICLE_HTML.format(paragraphs=PARAGRAPH * 4))
        else:
            self._send(status, "<html><body>indisponible</body></html>", headers)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_outlet_is_reported_and_others_are_crawled(tmp_path, demo_url, demo_articles):
    dead = f"http://127.0.0.1:{closed_port()}/"
    seeds = write_seeds(
        tmp_path / "outlets.toml",
        [
            {"slug": "hors-ligne", "name": "Hors ligne", "homepage": dead, "language": "fr"},
            {**DEMO_OUTLET, "homepage": demo_url},
        ],
    )
    db = tmp_path / "archive.db"
    result = run_crawl(seeds, db, "-s", "RETRY_TIMES=1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "hors-ligne" in result.stdout and "connection refused" in result.stdout
    assert "outlet hors-ligne: homepage" in result.stderr
    conn = sqlite3.connect(db)
    archived = conn.execute(
        "select count(*) from articles where outlet = 'turquie-demain'"
    ).fetchone()[0]
    failures = conn.execute("select failures from runs").fetchone()[0]
    errors = conn.execute(
        "select error from fetches where outlet = 'hors-ligne' and role = 'homepage'"
    ).fetchall()
    conn.close()
    assert archived == len(demo_articles)
    assert "hors-ligne" in failures
    assert errors and "connection refused" in errors[0][0]


def test_polite_crawl_waits_on_429_and_503_and_obeys_robots(tmp_path):
    FlakyOutlet.hits = []
    FlakyOutlet.agents = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyOutlet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        home = f"http://127.0.0.1:{server.server_address[1]}/"
        seeds = write_seeds(
            tmp_path / "outlets.toml",
            [{"slug": "flaky", "name": "Flaky", "homepage": home, "language": "fr"}],
        )
        db = tmp_path / "archive.db"
        result = run_crawl(seeds, db)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-2000:]
    article_hits = [(t, s) for t, p, s in FlakyOutlet.hits if p == ARTICLE_PATH]
    assert [s for _, s in article_hits] == [429, 503, 200]
    waited = article_hits[1][0] - article_hits[0][0]
    assert waited >= 1.9, f"Retry-After: 2 not honoured (waited {waited:.2f} s)"
    conn = sqlite3.connect(db)
    titles = [t for (t,) in conn.execute("select title from articles")]
    conn.close()
    assert titles == ["La Turquie accueille un sommet sur la sécurité alimentaire"]
    assert not [p for _, p, _ in FlakyOutlet.hits if p.startswith("/prive/")]
    assert "disallowed by robots.txt 1" in result.stdout
    (agent,) = FlakyOutlet.agents
    assert agent.startswith("veille/") and "+http" in agent


def crawl_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '[[outlet]]\nslug = "a"\nname = "A"\nhomepage = "https://a.example/"\nfeed = []\n',
            [":5:", 'outlet "a"', '"feed"', "feeds"],
        ),
        ('[[outlet]]\nslug = "a"\nname = "A"\n', [":1:", 'outlet "a"', '"homepage"']),
        (
            '[[outlet]]\nslug = "a"\nname = "A"\nhomepage = "a.example"\n',
            [":4:", 'outlet "a"', '"homepage"', "http"],
        ),
        ('[[outlet]]\nslug = "a"\nname = "A"\nhomepage = \n', [":4:", "invalid TOML"]),
        (
            '[[outlet]]\nslug = "a"\nname = "A"\nhomepage = "https://u:pw@a.example/"\n',
            [":4:", 'outlet "a"', '"homepage"', "credentials"],
        ),
    ],
)
def test_bad_seeds_give_one_clear_line_and_exit_2(tmp_path, content, expected):
    seeds = tmp_path / "bad.toml"
    seeds.write_text(content, encoding="utf-8")
    result = crawl_cli("--seeds", str(seeds), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(seeds) in result.stderr
    for fragment in expected:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert not (tmp_path / "x.db").exists()


def test_unknown_outlet_lists_the_known_ones(demo_seeds, tmp_path):
    result = crawl_cli("--seeds", "seeds/outlets.toml", "--outlet", "nope")
    assert result.returncode == 2
    assert 'unknown outlet "nope"' in result.stderr
    for slug in ("turquie2023", "trt-francais", "aa-fr"):
        assert slug in result.stderr


def test_bad_since_is_rejected_before_crawling(demo_seeds, tmp_path):
    result = crawl_cli(
        "--seeds", str(demo_seeds), "--since", "2024-13-01", "--db", str(tmp_path / "x.db")
    )
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr
