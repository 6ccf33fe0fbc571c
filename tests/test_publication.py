"""The published archive over HTTP: home, search, article, charts, feeds, safety, publish.

A real `python -m archive serve` over the demo crawl (`datasette_url`) and over a
hostile archive written through the real ingest path (`hostile_url`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from conftest import ROOT, free_port, wait_for_port
from publication_fixtures import (  # noqa: F401 (fixtures hostile_archive, hostile_url)
    MARKER,
    XSS_DIFF,
    hostile_archive_fixture,
    hostile_url_fixture,
    stop,
)

from archive import serve as serve_module

ATOM = "{http://www.w3.org/2005/Atom}"


def get(url: str, **params) -> httpx.Response:
    response = httpx.get(url, params=params or None, timeout=30)
    response.raise_for_status()
    return response


def search_rows(base: str, **params) -> list[dict]:
    return get(f"{base}/demo/search.json", _shape="array", **params).json()


# -- home ------------------------------------------------------------------------------


def test_home_lists_outlets_with_counts_latest_article_crawl_and_health(datasette_url, demo_crawl):
    (count,) = demo_crawl.query("select count(*) from articles")[0]
    latest_id, latest_title = demo_crawl.query(
        "select id, title from articles order by published desc limit 1"
    )[0]
    for path in ("/", "/demo"):
        html = get(datasette_url + path).text
        assert "Turquie Demain" in html
        assert f'<a href="/demo/articles?outlet=turquie-demain">{count}</a>' in html
        assert f'href="/demo/articles/{latest_id}"' in html
        assert str(escape_html(latest_title)) in html
        assert 'veille-health-ok">ok<' in html
        assert re.search(r'<form class="veille-searchbox" action="/demo/search"', html)
        assert 'href="/-/dashboards/activity"' in html
        assert 'href="/demo/feed.atom"' in html


def escape_html(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


# -- search ----------------------------------------------------------------------------


def test_search_page_highlights_links_facets_and_explains_syntax(datasette_url, demo_crawl):
    html = get(f"{datasette_url}/demo/search", q="Ankara").text
    snippets = re.findall(r'<td class="col-snippet">(.*?)</td>', html, flags=re.S)
    titles = re.findall(r'<td class="col-title">(.*?)</td>', html, flags=re.S)
    assert snippets and len(titles) == len(snippets)
    # The snippet is taken from the text; an article may match by its title alone.
    assert all(
        "<mark>Ankara</mark>" in cell or "Ankara" in title
        for cell, title in zip(snippets, titles, strict=True)
    )
    assert sum("<mark>Ankara</mark>" in cell for cell in snippets) >= len(snippets) // 2
    # Titles lead to the archived article's page.
    ids = re.findall(r'<a class="veille-title" href="/demo/articles/(\d+)">', html)
    assert len(ids) == len(snippets)
    (total,) = demo_crawl.query(
        "select count(*) from articles_fts where articles_fts match 'Ankara'"
    )[0]
    assert f"<strong>{total}</strong> articles match" in html
    for facet in ("Outlet", "Language", "Month", "Credits", "Author"):
        assert f"<h3>{facet}</h3>" in html
    assert 'href="/demo/search?q=Ankara&amp;outlet=turquie-demain"' in html
    for example in ('"gaz naturel"', "négoci*", "Ankara OR Bakou", "Turquie -football"):
        assert f"<code>{example}</code>" in html, example
    assert 'href="/demo/search.csv?q=Ankara"' in html
    assert 'href="/demo/search.json?q=Ankara&amp;_shape=array"' in html
    assert 'href="/demo/feed.atom?q=Ankara"' in html
    assert 'rel="alternate" type="application/atom+xml"' in html


def test_search_filters_sort_and_date_range(datasette_url, demo_crawl):
    by_relevance = search_rows(datasette_url, q="Ankara")
    by_date = search_rows(datasette_url, q="Ankara", sort="date")
    assert len(by_relevance) == len(by_date) > 3
    dates = [row["date"] for row in by_date]
    assert dates == sorted(dates, reverse=True)
    assert {row["url"] for row in by_relevance} == {row["url"] for row in by_date}

    in_range = search_rows(datasette_url, q="Ankara", since="2024-02-01", until="2024-03-31")
    assert in_range and all("2024-02-01" <= row["date"] <= "2024-03-31" for row in in_range)
    assert len(in_range) < len(by_date)

    month = search_rows(datasette_url, q="Ankara", month="2024-03")
    assert month and all(row["date"].startswith("2024-03") for row in month)

    credit, author = demo_crawl.query(
        "select json_extract(credits, '$[0]'), json_extract(authors, '$[0]') from articles "
        "where credits is not null and authors is not null and text like '%Ankara%' limit 1"
    )[0]
    credited = search_rows(datasette_url, q="Ankara", credit=credit)
    expected = demo_crawl.query(
        "select url from articles join articles_fts on articles.rowid = articles_fts.rowid "
        "where articles_fts match 'Ankara' and exists "
        "(select 1 from json_each(articles.credits) where value = ?)",
        [credit],
    )
    assert {row["url"] for row in credited} == {url for (url,) in expected}
    authored = search_rows(datasette_url, q="Ankara", author=author)
    assert authored and len(authored) < len(by_date)
    assert search_rows(datasette_url, q="Ankara", outlet="no-such-outlet") == []


def test_search_folds_accents_and_understands_prefix_phrase_and_boolean(datasette_url):
    assert any("Érevan" in row["title"] for row in search_rows(datasette_url, q="Erevan"))
    prefixed = search_rows(datasette_url, q="négoci*")
    assert prefixed and all(
        re.search(r"<mark>n[ée]goci", row["snippet"], flags=re.I) for row in prefixed
    )
    phrase = search_rows(datasette_url, q='"gaz naturel"')
    assert phrase and all("<mark>gaz naturel</mark>" in row["snippet"] for row in phrase)
    ankara = {row["url"] for row in search_rows(datasette_url, q="Ankara")}
    bakou = {row["url"] for row in search_rows(datasette_url, q="Bakou")}
    assert {row["url"] for row in search_rows(datasette_url, q="Ankara OR Bakou")} == (
        ankara | bakou
    )
    assert {row["url"] for row in search_rows(datasette_url, q="Ankara -Bakou")} == ankara - bakou


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"gaz naturel', "A closing quote is missing"),
        ("AND OR", "nothing to search for"),
        ("-football", "An exclusion needs a word to search for before it"),
        ("Ankara or Bakou", "in lower case is searched as a word"),
        ("(Ankara OR Bakou", "Parentheses are not supported"),
        ("***", "nothing to search for"),
    ],
)
def test_malformed_queries_get_a_readable_message_not_a_sql_error(datasette_url, query, message):
    response = httpx.get(f"{datasette_url}/demo/search", params={"q": query})
    assert response.status_code == 200
    notes = re.search(r'<div class="veille-notes" role="status">(.*?)</div>', response.text, re.S)
    assert notes and message in notes.group(1)
    for leak in ("fts5", "syntax error", "sqlite", "OperationalError", "malformed MATCH"):
        assert leak not in response.text
    assert httpx.get(f"{datasette_url}/demo/search.json", params={"q": query}).status_code == 200


def test_search_exports_csv_json_and_atom_feeds(datasette_url):
    rows = search_rows(datasette_url, q="Karabakh")
    exported = list(
        csv.reader(io.StringIO(get(f"{datasette_url}/demo/search.csv", q="Karabakh").text))
    )
    assert exported[0] == ["outlet", "date", "title", "url", "snippet"]
    assert [line[3] for line in exported[1:]] == [row["url"] for row in rows]

    feed = ET.fromstring(get(f"{datasette_url}/demo/feed.atom", q="Karabakh").content)
    entries = feed.findall(f"{ATOM}entry")
    assert {e.findtext(f"{ATOM}title") for e in entries} == {row["title"] for row in rows}
    assert all(e.find(f"{ATOM}link").get("href").startswith("http") for e in entries)

    everything = ET.fromstring(get(f"{datasette_url}/demo/feed.atom").content)
    assert len(everything.findall(f"{ATOM}entry")) == 42

    # An alert that matches nothing yet is still a valid feed.
    empty = httpx.get(f"{datasette_url}/demo/feed.atom", params={"q": "zzyzxqwv"})
    assert empty.status_code == 200
    (entry,) = ET.fromstring(empty.content).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "No article matches yet"


# -- article ---------------------------------------------------------------------------


def test_article_page_shows_the_article_to_read(datasette_url, demo_crawl):
    article_id, title, url, text, published, authors, credits = demo_crawl.query(
        "select id, title, url, text, published, authors, credits from articles "
        "where credits is not null and authors is not null limit 1"
    )[0]
    html = get(f"{datasette_url}/demo/articles/{article_id}").text
    assert f">{escape_html(title)}</h1>" in html
    assert "Turquie Demain" in html
    assert published in html
    for name in json.loads(authors) + json.loads(credits):
        assert escape_html(name) in html
    assert f'<a href="{url}" rel="noopener noreferrer nofollow">' in html
    text_block = re.search(r'<div class="veille-text">(.*?)</div>', html, re.S).group(1)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert text_block.count("<p>") == len(lines)
    assert f"<p>{escape_html(lines[-1])}</p>" in text_block
    assert f'href="/demo/articles/{article_id}.json"' in html
    # Today's demo archive records no syndication nor removal.
    assert "Same story elsewhere" not in html
    assert "Removed." not in html


def test_article_page_shows_versions_diff_removal_and_syndication(hostile_url, hostile_archive):
    html = get(f"{hostile_url}/hostile/articles/{hostile_archive.article_id}").text
    assert "<strong>Removed.</strong>" in html and "2024-03-05 12:00" in html
    assert "Same story elsewhere" in html
    assert f'href="/hostile/articles/{hostile_archive.echo_id}"' in html
    assert "2 versions" in html
    diff = re.findall(r'<div class="veille-diff">(.*?)</div>', html, re.S)
    assert diff and "<del>constructif,</del>" in diff[-1] and "<ins>tendu" in diff[-1]
    assert escape_html(XSS_DIFF) in diff[-1]
    assert "<ins> (mis à jour)</ins>" in html


# -- charts ----------------------------------------------------------------------------


def test_chart_dashboard_and_every_chart_query_run(datasette_url):
    from datasette_dashboards import replace_opts_in_query

    html = get(f"{datasette_url}/-/dashboards/activity", q="Ankara").text
    assert "Publication over time" in html
    dashboard = serve_module.metadata_for(Path("demo.db"))["plugins"]["datasette-dashboards"]
    charts = dashboard["activity"]["charts"]
    assert {"articles-per-day", "term-per-week"} <= set(charts)
    options = {"q": "Ankara", "date_start": "2024-01-01", "date_end": "2024-03-31"}
    for slug, chart in charts.items():
        if "query" not in chart:
            continue
        assert chart["db"] == "demo"
        assert f"renderChart('{slug}'" in html
        sql = replace_opts_in_query(chart["query"], options)
        rows = get(f"{datasette_url}/demo.json", sql=sql, _shape="array", **options).json()
        assert rows, slug
    per_day = get(
        f"{datasette_url}/demo.json",
        sql=replace_opts_in_query(charts["articles-per-day"]["query"], options),
        _shape="array",
        **options,
    ).json()
    assert sum(row["articles"] for row in per_day) == 25  # Jan–Mar in the demo outlet
    assert all("2024-01-01" <= row["day"] <= "2024-03-31" for row in per_day)


# -- escaping --------------------------------------------------------------------------


def test_archived_markup_is_text_on_every_page(hostile_url, hostile_archive):
    pages = [
        "/",
        "/hostile",
        f"/hostile/search?q={MARKER}",
        f"/hostile/articles/{hostile_archive.article_id}",
        "/hostile/articles",
        "/hostile/outlets",
        "/hostile/article_versions",
    ]
    for path in pages:
        html = get(hostile_url + path).text
        assert "window.__xss" in html, path  # the hostile text is shown...
        for raw in ("<script>window.__xss", "<img src=x", 'href="javascript:', "<b>Hostile"):
            assert raw not in html, (path, raw)  # ...never as markup
    article = get(f"{hostile_url}/hostile/articles/{hostile_archive.article_id}").text
    assert "&lt;script&gt;window.__xss=&#39;body&#39;&lt;/script&gt;" in article
    assert "javascript:" not in re.sub(
        r"&[^;]+;", "", "".join(re.findall(r'href="[^"]*"', article))
    )
    feed = get(f"{hostile_url}/hostile/feed.atom", q=MARKER).text
    assert "<script>" not in feed and "&lt;script&gt;" in feed


# -- safety ----------------------------------------------------------------------------


def test_published_archive_is_read_only_bounded_and_not_indexed(datasette_url):
    robots = get(f"{datasette_url}/robots.txt").text
    assert "User-agent: *" in robots and "Disallow: /" in robots
    settings = get(f"{datasette_url}/-/settings.json").json()
    assert settings["sql_time_limit_ms"] == 3000
    assert settings["max_returned_rows"] == 1000
    assert settings["allow_download"] is False
    plugins = {plugin["name"] for plugin in get(f"{datasette_url}/-/plugins.json").json()}
    assert plugins == {
        "datasette-atom",
        "datasette-block-robots",
        "datasette-dashboards",
        "datasette-leaflet",
        "datasette-render-markdown",
        "veille_pages.py",
        "veille_permissions.py",
        "veille_raw.py",
        "veille_schema.py",
        "veille_search.py",
    }
    assert get(f"{datasette_url}/-/actor.json").json() == {"actor": None}
    headers = get(f"{datasette_url}/demo/search", q="Ankara").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "object-src 'none'" in headers["content-security-policy"]
    for path in ("/demo/search", "/demo/articles", "/demo", "/-/logout"):
        response = httpx.post(datasette_url + path, data={"q": "x"})
        assert response.status_code == 405, path
        assert "read-only" in response.text
    assert httpx.get(f"{datasette_url}/demo.db").status_code == 403


def test_serve_binds_loopback_without_root_and_refuses_write_plugins(monkeypatch, tmp_path, capsys):
    from archive.cli import build_parser

    args = build_parser().parse_args(["serve", "--db", "x.db"])
    assert args.host == "127.0.0.1"
    built = serve_module.datasette_args(Path("x.db"), args.host, args.port, Path("m.json"))
    assert built[built.index("--host") + 1] == "127.0.0.1"
    assert "--root" not in built and "--cors" not in built
    pairs = [(built[i + 1], built[i + 2]) for i, a in enumerate(built) if a == "--setting"]
    assert ("sql_time_limit_ms", "3000") in pairs and ("max_returned_rows", "1000") in pairs
    assert serve_module.installed_write_plugins() == []

    db = tmp_path / "a.db"
    sqlite3.connect(db).close()
    monkeypatch.setattr(serve_module, "installed_write_plugins", lambda: ["datasette-write"])
    assert serve_module.serve(str(db)) == 2
    assert "refusing to publish" in capsys.readouterr().err


def test_metadata_follows_any_database_name_and_robots_opt_in(monkeypatch):
    metadata = serve_module.metadata_for(Path("data/archive-2024.db"), allow_robots=False)
    assert set(metadata["databases"]) == {"archive-2024"}
    assert 'href="/archive-2024/search"' in metadata["description_html"]
    activity = metadata["plugins"]["datasette-dashboards"]["activity"]
    assert {chart.get("db") for chart in activity["charts"].values()} == {"archive-2024", None}
    assert activity["filters"]["outlet"]["db"] == "archive-2024"
    assert metadata["plugins"]["datasette-block-robots"] == {"disallow": ["/"]}

    monkeypatch.setenv("VEILLE_ALLOW_ROBOTS", "1")
    allowed = serve_module.metadata_for(Path("data/archive.db"))
    assert allowed["plugins"]["datasette-block-robots"] == {"literal": "User-agent: *\nAllow: /"}


def test_saved_alerts_are_listed_with_their_feeds(demo_crawl, tmp_path):
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        '[[alert]]\nname = "Caucase"\nquery = "Karabakh OR Érevan"\n', encoding="utf-8"
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(demo_crawl.db), "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "VEILLE_ALERTS": str(alerts)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        html = get(f"http://127.0.0.1:{port}/demo").text
        assert "<strong>Caucase</strong>" in html
        feed_url = "/demo/feed.atom?q=Karabakh+OR+%C3%89revan"
        assert f'href="{feed_url}"' in html
        feed = ET.fromstring(get(f"http://127.0.0.1:{port}{feed_url}").content)
        assert feed.findall(f"{ATOM}entry")
    finally:
        stop(process)


# -- publish ---------------------------------------------------------------------------


def test_publish_stages_a_snapshot_that_runs_without_the_package(demo_crawl, tmp_path):
    out = tmp_path / "publish"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "archive.serve",
            "publish",
            "--db",
            str(demo_crawl.db),
            "--out",
            out,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"datasette package {out}/demo.db --tag veille-demo" in done.stdout
    assert "datasette publish cloudrun" in done.stdout
    for pin in ("datasette==0.65.5", "datasette-atom==0.9", "datasette-dashboards==0.8.0"):
        assert f"--install {pin}" in done.stdout
    snapshot = sqlite3.connect(out / "demo.db")
    try:
        assert snapshot.execute("pragma journal_mode").fetchone() == ("delete",)
        assert snapshot.execute("select count(*) from articles").fetchone() == (42,)
    finally:
        snapshot.close()

    # What `datasette package` runs in its image: the staged files, no veille package.
    port = free_port()
    code = (
        "import sys; sys.modules['archive'] = None; sys.modules['archive.search'] = None\n"
        "from datasette.cli import cli\n"
        f"cli(['serve', '-i', {str(out / 'demo.db')!r}, '--port', '{port}',"
        f" '--metadata', {str(out / 'metadata.json')!r},"
        f" '--plugins-dir', {str(out / 'plugins')!r},"
        f" '--template-dir', {str(out / 'templates')!r}])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        rows = get(
            f"http://127.0.0.1:{port}/demo/search.json", q="Haut-Karabakh", _shape="array"
        ).json()
        assert rows and "<mark>Haut-Karabakh</mark>" in rows[0]["snippet"]
        assert "Disallow: /" in get(f"http://127.0.0.1:{port}/robots.txt").text
    finally:
        stop(process)


# -- the plugins' own helpers ----------------------------------------------------------


def load_plugin(name: str):
    from datasette.utils import module_from_path

    path = ROOT / "archive" / "datasette" / "plugins" / f"{name}.py"
    return module_from_path(str(path), name=f"{name}.py")


def test_word_diff_escapes_both_sides_and_shortens_unchanged_text():
    pages = load_plugin("veille_pages")
    old = " ".join(f"mot{i}" for i in range(100)) + " <b>ancien</b>"
    new = " ".join(f"mot{i}" for i in range(100)) + " <script>x()</script>"
    diff = pages.word_diff(old, new, context=5)
    html = str(diff["html"])
    assert "<script>" not in html and "<b>" not in html
    assert "<del>&lt;b&gt;ancien&lt;/b&gt;</del>" in html
    assert "<ins>&lt;script&gt;x()&lt;/script&gt;</ins>" in html
    assert '<span class="veille-skip">[…]</span>' in html and "mot10 " not in html
    assert (diff["added"], diff["removed"]) == (1, 1)
    assert pages.safe_url("javascript:alert(1)") is None
    assert pages.safe_url(" JaVaScRiPt:alert(1)") is None
    assert pages.safe_url("data:text/html,x") is None
    assert pages.safe_url("https://example.org/a") == "https://example.org/a"
    assert pages.paragraphs("a\n\n  b  \n") == ["a", "b"]
