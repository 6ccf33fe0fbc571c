"""The published archive in a real headless Chromium, as a reader uses it.

`make serve` publishes the demo crawl; Playwright drives Debian's chromium
(/usr/bin/chromium, installed by .ci/run). Every page must load without a JavaScript
error; screenshots go to screenshots/ (git-ignored). The hostile archive checks that
archived markup never runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, free_port, wait_for_port
from publication_fixtures import (  # noqa: F401 (fixtures hostile_archive, hostile_url)
    MARKER,
    XSS_IMG,
    XSS_LINK,
    XSS_SCRIPT,
    XSS_TITLE,
    hostile_archive_fixture,
    hostile_url_fixture,
    stop,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    if os.environ.get("CI"):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
    pytest.skip("no Chromium (apt-get install chromium, or set CHROMIUM)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def make_serve(demo_crawl):
    """`make serve` on the demo archive, as a user runs it."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"DB={demo_crawl.db}", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=120)  # the first `make` may install the venv
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose JavaScript errors, dialogs and failed requests are recorded."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str, shot: str | None = None, wait: str = "load"):
        response = self.page.goto(url, wait_until=wait)
        assert response is not None and response.status == 200, url
        if shot:
            SCREENSHOTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
        return response


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watched = Watched(context.new_page())
    try:
        yield watched
    finally:
        context.close()
    assert watched.errors == [], watched.errors
    assert watched.dialogs == [], watched.dialogs


def test_home_page_shows_outlets_and_searches(page, make_serve):
    page.open(make_serve + "/", shot="home")
    row = page.page.locator("table.veille-outlets tbody tr").first
    assert "Turquie Demain" in row.inner_text()
    assert row.locator("td.col-articles").inner_text().strip() == "42"
    assert row.locator(".veille-health").inner_text() == "ok"
    page.page.fill("form.veille-searchbox input[name=q]", "Erevan")
    with page.page.expect_navigation():
        page.page.click("form.veille-searchbox input[type=submit]")
    assert page.page.url.startswith(make_serve + "/demo/search?q=Erevan")
    assert "Érevan" in page.page.locator("td.col-title").first.inner_text()


def test_search_highlights_the_matched_words(page, make_serve):
    page.open(make_serve + "/demo/search?q=Haut-Karabakh", shot="search")
    marks = page.page.locator("td.col-snippet mark")
    assert marks.count() >= 1
    assert marks.first.inner_text() == "Haut-Karabakh"
    background = marks.first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.page.locator("aside.veille-facets h3").all_inner_texts()[:3] == [
        "Outlet",
        "Language",
        "Month",
    ]
    # Sort by date, then open the first result: the article page.
    with page.page.expect_navigation():
        page.page.click("p.veille-summary a:text-is('date')")
    assert "sort=date" in page.page.url
    with page.page.expect_navigation():
        page.page.locator("td.col-title a").first.click()
    assert re.search(r"/demo/articles/\d+$", page.page.url)


def test_malformed_query_shows_a_readable_message(page, make_serve):
    page.open(make_serve + '/demo/search?q="gaz+naturel', shot="search-malformed")
    notes = page.page.locator(".veille-notes").inner_text()
    assert "closing quote is missing" in notes
    assert page.page.locator("td.col-snippet mark").first.inner_text() == "gaz naturel"


def test_article_page_reads_like_an_article(page, make_serve, demo_crawl):
    article_id, title, url, text = demo_crawl.query(
        "select id, title, url, text from articles where credits is not null limit 1"
    )[0]
    page.open(f"{make_serve}/demo/articles/{article_id}", shot="article")
    assert page.page.locator("article.veille-article h1").inner_text() == title
    paragraphs = page.page.locator(".veille-text p").all_inner_texts()
    assert paragraphs == [line.strip() for line in text.splitlines() if line.strip()]
    original = page.page.locator(".veille-meta a[rel~=nofollow]")
    assert original.get_attribute("href") == url
    assert "Turquie Demain" in page.page.locator("p.veille-meta").inner_text()


def test_chart_page_draws_both_charts(page, make_serve):
    page.open(make_serve + "/-/dashboards/activity?q=Ankara", shot="charts", wait="networkidle")
    for chart in ("articles-per-day", "term-per-week"):
        drawn = page.page.locator(f"#chart-{chart} canvas, #chart-{chart} svg")
        drawn.first.wait_for(state="visible", timeout=10_000)
    metric = page.page.locator("#chart-matches-count").inner_text()
    assert re.search(r"\d+", metric) and int(re.search(r"\d+", metric).group()) > 0


def test_hostile_archived_article_runs_nothing(page, hostile_url, hostile_archive):
    article = f"{hostile_url}/hostile/articles/{hostile_archive.article_id}"
    for url, shot in [
        (article, "xss-article"),
        (f"{hostile_url}/hostile/search?q={MARKER}", "xss-search"),
        (f"{hostile_url}/", "xss-home"),
        (f"{hostile_url}/hostile/articles", "xss-table"),
    ]:
        page.open(url, shot=shot)
        assert page.page.evaluate("window.__xss") is None, url
        assert page.page.locator("article img, td img, .veille-text a").count() == 0, url
    page.open(article)
    assert page.page.locator("article.veille-article h1").inner_text() == XSS_TITLE
    text = page.page.locator(".veille-text").inner_text()
    for fragment in (XSS_SCRIPT, XSS_IMG, XSS_LINK):
        assert fragment in text
    # No link on the page leads to a javascript: URL, and clicking around runs nothing.
    hrefs = page.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert not [href for href in hrefs if href.lower().startswith("javascript:")]
    page.page.locator(".veille-text").click()
    page.page.locator("h1").click()
    assert page.page.evaluate("window.__xss") is None
