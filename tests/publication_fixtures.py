"""Fixtures for the publication tests: a hostile archive, served for real.

The hostile archive is written through the archive's real write path
(`Archive.ingest(RawPage)`): an article whose title, description, author and body
carry `<script>`, `<img onerror=…>` and `javascript:` links as text, and a second
outlet carrying the same story. Then the columns and tables that monitoring adds
(article versions, `removed_at`, `story_id`) are filled in, as a later crawl would,
so the article page's versions, diff, removal and syndication sections render.

Import the fixtures into a test module with
`from publication_fixtures import hostile_archive_fixture, hostile_url_fixture`.
"""

from __future__ import annotations

import html
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import query_db

from archive.ingest import Archive
from archive.page import RawPage
from archive.seeds import Outlet

ROOT = Path(__file__).resolve().parent.parent

XSS_TITLE = (
    "<script>window.__xss='title'</script> Ankara <img src=x onerror=\"window.__xss='img'\">"
)
XSS_SCRIPT = "<script>window.__xss='body'</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss='body-img'\">"
XSS_LINK = "<a href=\"javascript:window.__xss='link'\">cliquez ici</a>"
XSS_AUTHOR = "<img src=x onerror=\"window.__xss='author'\">"
XSS_DIFF = "<script>window.__xss='diff'</script>"
# A word found only in the hostile article, to search for it.
MARKER = "Zanzibarxss"

PARAGRAPHS = [
    f"Le ministère a publié un communiqué sur {MARKER} et la sécurité régionale, "
    f"qui contenait le fragment {XSS_SCRIPT} recopié tel quel par la rédaction.",
    f"Une image piégée {XSS_IMG} figurait aussi dans la dépêche, ainsi qu’un lien "
    f"{XSS_LINK} que personne ne devrait suivre depuis l’archive.",
    "Les délégations ont évoqué une réunion dans un esprit de travail constructif, "
    "sans annoncer de date pour la prochaine session des négociations.",
]


def outlet(slug: str, name: str) -> Outlet:
    return Outlet(
        slug=slug,
        name=name,
        homepage=f"http://{slug}.example/",
        language="fr",
        country="TR",
        feeds=(),
        sitemaps=(),
        domains=(),
        article_pattern=None,
        exclude=(),
    )


def article_html(title: str, paragraphs: list[str], author: str, published: str) -> bytes:
    esc = html.escape
    body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
    page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(title)}">
<meta name="description" content="{esc("Résumé : " + XSS_SCRIPT + " " + XSS_LINK)}">
<meta name="author" content="{esc(author)}">
<meta property="article:published_time" content="{published}">
</head><body>
<header><nav><a href="/">Accueil</a></nav></header>
<article><h1>{esc(title)}</h1>
{body}
</article>
<footer>Pied de page</footer>
</body></html>"""
    return page.encode("utf-8")


def raw_page(url: str, slug: str, body: bytes, fetched_at: str) -> RawPage:
    return RawPage(
        url=url,
        outlet=slug,
        role="article",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=body,
        fetched_at=fetched_at,
        found_via="sitemap",
    )


@dataclass
class HostileArchive:
    db: Path
    article_id: int
    echo_id: int

    def query(self, sql: str, params=()) -> list[tuple]:
        return query_db(self.db, sql, params)


def build_hostile_archive(db: Path) -> HostileArchive:
    hostile = outlet("hostile", "<b>Hostile</b> <script>window.__xss='outlet'</script>")
    echo = outlet("echo", "Écho du Bosphore")
    archive = Archive(db, [hostile, echo])
    try:
        first = archive.ingest(
            raw_page(
                "http://hostile.example/2024/03/01/communique/",
                "hostile",
                article_html(XSS_TITLE, PARAGRAPHS, XSS_AUTHOR, "2024-03-01T09:30:00+03:00"),
                "2024-03-01T07:00:00+00:00",
            )
        )
        second = archive.ingest(
            raw_page(
                "http://echo.example/2024/03/02/reprise/",
                "echo",
                article_html(
                    "Ankara : la reprise du communiqué",
                    [p.replace(MARKER, "Bakou") for p in PARAGRAPHS],
                    "Rédaction",
                    "2024-03-02T10:00:00+03:00",
                ),
                "2024-03-02T08:00:00+00:00",
            )
        )
    finally:
        archive.close()
    assert first.kind == "archived" and second.kind == "archived", (first, second)
    conn = sqlite3.connect(db)
    try:
        with conn:
            add_monitoring(conn, first.article_id, second.article_id)
    finally:
        conn.close()
    return HostileArchive(db=db, article_id=first.article_id, echo_id=second.article_id)


def add_monitoring(conn: sqlite3.Connection, article_id: int, echo_id: int) -> None:
    """What re-checks and syndication detection record, in the DESIGN.md schema."""
    columns = {row[1] for row in conn.execute("pragma table_info(articles)")}
    for column in ("removed_at", "story_id"):
        if column not in columns:
            conn.execute(f"alter table articles add column {column} text")
    conn.execute(
        "update articles set removed_at = '2024-03-05T12:00:00+00:00' where id = ?", [article_id]
    )
    conn.execute(
        "update articles set story_id = 'story-1' where id in (?, ?)", [article_id, echo_id]
    )
    conn.execute(
        "create table if not exists article_versions (id integer primary key, "
        "article_id integer, version integer, fetched_at text, title text, text text, hash text)"
    )
    title, text, hash_ = conn.execute(
        "select title, text, hash from articles where id = ?", [article_id]
    ).fetchone()
    if not conn.execute(
        "select 1 from article_versions where article_id = ? and version = 1", [article_id]
    ).fetchone():
        conn.execute(
            "insert into article_versions (article_id, version, fetched_at, title, text, hash) "
            "values (?, 1, '2024-03-01T07:00:00+00:00', ?, ?, ?)",
            [article_id, title, text, hash_],
        )
    changed = text.replace("constructif", f"tendu {XSS_DIFF}").replace("Les délégations", "Elles")
    conn.execute(
        "insert into article_versions (article_id, version, fetched_at, title, text, hash) "
        "values (?, 2, '2024-03-03T07:00:00+00:00', ?, ?, 'changed')",
        [article_id, title + " (mis à jour)", changed],
    )
    # An outlet record pointing somewhere a browser must never go from our pages.
    conn.execute(
        "update outlets set homepage = ? where slug = 'hostile'",
        ["javascript:window.__xss='homepage'"],
    )


def start_serve(db: Path, port: int, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


@pytest.fixture(scope="session", name="hostile_archive")
def hostile_archive_fixture(tmp_path_factory) -> HostileArchive:
    return build_hostile_archive(tmp_path_factory.mktemp("hostile") / "hostile.db")


@pytest.fixture(scope="session", name="hostile_url")
def hostile_url_fixture(hostile_archive):
    from conftest import free_port, wait_for_port

    port = free_port()
    process = start_serve(hostile_archive.db, port)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
