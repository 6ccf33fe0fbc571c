"""The bundled demo outlet (tests/fixtures/demo_outlet/): ground truth and served site."""

from __future__ import annotations

import email.utils
import gzip
import html
import importlib.util
import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from xml.etree import ElementTree as ET

import pytest

SERVER_PATH = Path(__file__).parent / "fixtures" / "demo_outlet" / "server.py"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def load_server_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_outlet_server", SERVER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def outlet():
    module = load_server_module()
    server = module.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    articles = module.load_articles()
    yield SimpleNamespace(
        module=module,
        base=f"http://{host}:{port}",
        articles=articles,
        by_id={a["id"]: a for a in articles},
    )
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict[str, str] | None = None, follow: bool = True):
    """(status, headers, body bytes), without raising on 3xx/4xx."""
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def get_text(url: str) -> str:
    status, headers, body = fetch(url)
    assert status == 200, url
    return body.decode(headers.get_content_charset() or "utf-8")


def entry_content_paragraphs(page: str) -> list[str]:
    block = page.split('<div class="entry-content">', 1)[1].split("<!-- .entry-content -->", 1)[0]
    return [html.unescape(p) for p in re.findall(r"<p[^>]*>(.*?)</p>", block, re.S)]


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'<a\s[^>]*?href="([^"]*)"', page)]


def sitemap_locs(xml_bytes: bytes) -> list[str]:
    return [loc.text for loc in ET.fromstring(xml_bytes).iter(f"{SM}loc")]


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_is_well_formed(outlet):
    articles = outlet.articles
    assert len(articles) >= 36
    assert [a["id"] for a in articles] == list(range(1, len(articles) + 1))
    assert len({a["slug"] for a in articles}) == len(articles)
    assert len({a["published"] for a in articles}) == len(articles)
    assert 5 <= len({a["category"] for a in articles}) <= 6
    assert {a["category"] for a in articles} <= set(outlet.module.CATEGORIES)
    assert 4 <= len({a["author"] for a in articles}) <= 5
    credits = Counter(a["credit"] for a in articles)
    assert set(credits) == {"AA", "TRT FR", None}
    assert 0.35 <= (credits["AA"] + credits["TRT FR"]) / len(articles) <= 0.65
    later = sum(a["modified"] != a["published"] for a in articles)
    assert 0.2 <= later / len(articles) <= 0.5
    for a in articles:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", a["slug"]), a["id"]
        published = datetime.fromisoformat(a["published"])
        assert a["published"].endswith("+03:00")
        assert datetime(2024, 1, 1).date() <= published.date() <= datetime(2024, 6, 30).date()
        assert datetime.fromisoformat(a["modified"]) >= published
        assert 2 <= len(a["tags"]) <= 4
        assert 3 <= len(a["paragraphs"]) <= 8
        assert 180 <= sum(len(p.split()) for p in a["paragraphs"]) <= 500, a["id"]
        assert a["excerpt"] and a["title"]
    bodies = ["\n".join(a["paragraphs"]) for a in articles]
    assert any("Haut-Karabakh" in b and "Érevan" in b for b in bodies)
    assert sum("«" in b for b in bodies) > len(bodies) // 2
    assert sum("’" in b for b in bodies) > len(bodies) // 2
    assert any("œ" in b for b in bodies)
    # Legacy pages are served in windows-1252: their own text must fit in it.
    for article_id in outlet.module.LEGACY_IDS:
        a = outlet.by_id[article_id]
        "\n".join([a["title"], a["author"], a["excerpt"], *a["paragraphs"]]).encode("cp1252")


def test_article_path(outlet):
    a = outlet.by_id[5]
    assert outlet.module.article_path(a) == f"/2024/01/19/{a['slug']}/"


# --------------------------------------------------------------------------- pages


def test_homepage_links_categories_feed_and_traps(outlet):
    status, headers, body = fetch(outlet.base + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    page = body.decode("utf-8")
    assert '<meta charset="UTF-8">' in page
    feed_link = (
        f'type="application/rss+xml" title="Turquie Demain &raquo; Flux" href="{outlet.base}/feed/"'
    )
    assert feed_link in page
    links = hrefs(page)
    for slug in outlet.module.CATEGORIES:
        assert f"{outlet.base}/category/{slug}/" in links
    for path in ("/a-propos/", "/contact/", "/agenda/"):
        assert outlet.base + path in links
    recent = sorted(outlet.articles, key=lambda a: a["published"], reverse=True)
    for a in recent[:8]:
        assert outlet.base + outlet.module.article_path(a) in links
    assert any("?utm_source=sidebar&utm_medium=widget" in h for h in links)
    assert any(h.startswith(f"{outlet.base}/?s=") for h in links)
    assert any(h.startswith(f"{outlet.base}/agenda/?mois=") for h in links)


def test_article_page_markup_and_body(outlet):
    a = next(
        a
        for a in outlet.articles
        if a["credit"]
        and a["id"] not in outlet.module.LEGACY_IDS
        and a["id"] % 5 != 2
        and a["id"] % 7 != 0
    )
    a_section = outlet.module.CATEGORIES[a["category"]]
    url = outlet.base + outlet.module.article_path(a)
    status, headers, body = fetch(url)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    page = body.decode("utf-8")
    assert '<html lang="fr-FR"' in page
    assert f"<title>{html.escape(a['title'])} – Turquie Demain</title>" in page
    assert f'<link rel="canonical" href="{url}">' in page
    assert f'<link rel="amphtml" href="{url}amp/">' in page
    assert '<meta property="og:type" content="article">' in page
    assert f'<meta property="og:title" content="{html.escape(a["title"])}">' in page
    assert f'<meta property="og:description" content="{html.escape(a["excerpt"])}">' in page
    assert '<meta property="og:site_name" content="Turquie Demain">' in page
    assert '<meta property="og:image" content="' in page
    assert f'<meta property="article:section" content="{html.escape(a_section)}">' in page
    for tag in a["tags"]:
        assert f'<meta property="article:tag" content="{html.escape(tag)}">' in page
    assert f'<meta property="article:published_time" content="{a["published"]}">' in page
    assert f'<meta property="article:modified_time" content="{a["modified"]}">' in page
    assert '<span class="comments-link"><a href="#comments">0</a></span>' in page
    assert "Partager cet article?" in page
    assert entry_content_paragraphs(page) == [
        *a["paragraphs"],
        a["credit"],
        f"Partager cet article? {url}",
    ]
    graph = json.loads(
        re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S).group(1)
    )["@graph"]
    news = next(node for node in graph if node["@type"] == "NewsArticle")
    assert news["headline"] == a["title"]
    assert news["datePublished"] == a["published"]
    assert news["dateModified"] == a["modified"]
    assert news["author"] == {**news["author"], "@type": "Person", "name": a["author"]}
    assert news["publisher"]["@type"] == "Organization"


def test_comment_counter_and_comments_stay_out_of_the_body(outlet):
    a = next(a for a in outlet.articles if a["id"] % 7 == 0)  # two reader comments
    page = get_text(outlet.base + outlet.module.article_path(a))
    assert '<span class="comments-link"><a href="#comments">2</a></span>' in page
    comments = page.split('<div id="comments"', 1)[1]
    assert comments.count('class="comment-content"') == 2
    assert entry_content_paragraphs(page)[: len(a["paragraphs"])] == a["paragraphs"]


def test_legacy_article_is_windows_1252_with_header_charset_only(outlet):
    a = outlet.by_id[1]
    status, headers, body = fetch(outlet.base + outlet.module.article_path(a))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=windows-1252"
    assert re.search(rb"<meta[^>]*charset", body, re.I) is None
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode(headers.get_content_charset())
    assert "Inflation : la Banque centrale turque maintient une politique monétaire" in page
    for paragraph in a["paragraphs"]:
        assert html.escape(paragraph, quote=False) in page
    amp_status, amp_headers, _ = fetch(outlet.base + outlet.module.article_path(a) + "amp/")
    assert amp_status == 200
    assert amp_headers["Content-Type"] == "text/html; charset=UTF-8"


def test_amp_variant(outlet):
    a = outlet.by_id[5]
    url = outlet.base + outlet.module.article_path(a)
    page = get_text(url + "amp/")
    assert "<html ⚡" in page
    assert f'<link rel="canonical" href="{url}">' in page
    for paragraph in a["paragraphs"]:
        assert f"<p>{paragraph}</p>" in page


def test_static_and_listing_pages_are_not_articles(outlet):
    for path in ("/a-propos/", "/contact/", "/author/selin-aydin/", "/tag/energie/"):
        page = get_text(outlet.base + path)
        assert '<meta property="og:type" content="website">' in page, path
        assert "NewsArticle" not in page, path


def test_absolute_urls_follow_the_host_header(outlet):
    a = outlet.by_id[5]
    path = outlet.module.article_path(a)
    status, _, body = fetch(outlet.base + path, headers={"Host": "demo.test:8080"})
    assert status == 200
    assert f'<link rel="canonical" href="http://demo.test:8080{path}">' in body.decode()
    _, _, robots = fetch(outlet.base + "/robots.txt", headers={"Host": "demo.test:8080"})
    assert "Sitemap: http://demo.test:8080/sitemap_index.xml" in robots.decode()


def test_not_found_and_trailing_slash_redirect(outlet):
    status, headers, body = fetch(outlet.base + "/2024/01/01/nexiste-pas/")
    assert status == 404
    assert "Oups ! Cette page est introuvable." in body.decode("utf-8")
    a = outlet.by_id[5]
    path = outlet.module.article_path(a)
    status, headers, _ = fetch(outlet.base + path.rstrip("/"), follow=False)
    assert status == 301
    assert headers["Location"] == outlet.base + path


# --------------------------------------------------------------------------- feeds, sitemaps


def test_feed_is_rss_with_ten_most_recent_items(outlet):
    status, headers, body = fetch(outlet.base + "/feed/")
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")
    rss = ET.fromstring(body)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("./channel/item")
    assert len(items) == 10
    recent = sorted(outlet.articles, key=lambda a: a["published"], reverse=True)[:10]
    for item, a in zip(items, recent, strict=True):
        assert item.findtext("title") == a["title"]
        assert item.findtext("link") == outlet.base + outlet.module.article_path(a)
        assert item.findtext("guid")
        pub = email.utils.parsedate_to_datetime(item.findtext("pubDate"))
        assert pub == datetime.fromisoformat(a["published"])
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == a["author"]
        assert item.findtext("category")
        assert item.findtext("description")
        assert a["paragraphs"][0] in item.findtext(
            "{http://purl.org/rss/1.0/modules/content/}encoded"
        )


def test_robots_txt(outlet):
    text = get_text(outlet.base + "/robots.txt")
    lines = text.splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /wp-admin/" in lines
    assert "Disallow: /?s=" in lines
    assert f"Sitemap: {outlet.base}/sitemap_index.xml" in lines


def test_sitemaps_cover_every_article(outlet):
    _, _, index = fetch(outlet.base + "/sitemap_index.xml")
    children = sitemap_locs(index)
    assert [c.removeprefix(outlet.base) for c in children] == [
        "/post-sitemap.xml",
        "/post-sitemap2.xml.gz",
        "/page-sitemap.xml",
        "/category-sitemap.xml",
        "/news-sitemap.xml",
    ]
    assert all(e.findtext(f"{SM}lastmod") for e in ET.fromstring(index))

    status, headers, gz = fetch(outlet.base + "/post-sitemap2.xml.gz")
    assert status == 200
    assert headers["Content-Type"] == "application/x-gzip"
    assert "Content-Encoding" not in headers
    newer = ET.fromstring(gzip.decompress(gz))
    assert newer.tag == f"{SM}urlset"

    found: set[str] = set()
    for child in children:
        _, _, data = fetch(child)
        if child.endswith(".gz"):
            data = gzip.decompress(data)
        found.update(sitemap_locs(data))
    expected = {outlet.base + outlet.module.article_path(a) for a in outlet.articles}
    assert expected <= found
    assert {outlet.base + "/a-propos/", outlet.base + "/contact/"} <= found

    _, _, older = fetch(outlet.base + "/post-sitemap.xml")
    assert set(sitemap_locs(older)).isdisjoint(sitemap_locs(gzip.decompress(gz)))


def test_news_sitemap(outlet):
    _, _, data = fetch(outlet.base + "/news-sitemap.xml")
    urls = ET.fromstring(data).findall(f"{SM}url")
    assert len(urls) == 5
    recent = sorted(outlet.articles, key=lambda a: a["published"], reverse=True)[:5]
    for url, a in zip(urls, recent, strict=True):
        news = url.find(f"{NEWS}news")
        assert news.findtext(f"{NEWS}publication/{NEWS}name") == "Turquie Demain"
        assert news.findtext(f"{NEWS}publication/{NEWS}language") == "fr"
        assert news.findtext(f"{NEWS}publication_date") == a["published"]
        assert news.findtext(f"{NEWS}title") == a["title"]


# --------------------------------------------------------------------------- listings, traps


def test_category_pagination_lists_every_article_then_404s(outlet):
    counts = Counter(a["category"] for a in outlet.articles)
    for slug, count in counts.items():
        expected = sorted(
            (a for a in outlet.articles if a["category"] == slug),
            key=lambda a: a["published"],
            reverse=True,
        )
        pages = -(-count // 6)
        seen: list[str] = []
        for n in range(1, pages + 1):
            path = f"/category/{slug}/" if n == 1 else f"/category/{slug}/page/{n}/"
            page = get_text(outlet.base + path)
            seen += re.findall(r'<h2 class="entry-title"><a href="([^"]+)"', page)
            assert ('rel="next"' in page) == (n < pages)
            assert ('rel="prev"' in page) == (n > 1)
            if n < pages:
                assert "Page suivante" in page
        assert seen == [outlet.base + outlet.module.article_path(a) for a in expected]
        status, _, _ = fetch(f"{outlet.base}/category/{slug}/page/{pages + 1}/")
        assert status == 404
    assert max(counts.values()) > 6  # at least one category really paginates


def test_calendar_trap_goes_on_in_both_directions(outlet):
    for label in ("mois suivant", "mois précédent"):
        url = outlet.base + "/agenda/"
        seen = set()
        for _ in range(15):
            page = get_text(url)
            match = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>[^<]*{label}', page)
            assert match, url
            url = html.unescape(match.group(1))
            assert "/agenda/?mois=" in url
            assert url not in seen
            seen.add(url)


def test_search_trap_pages_never_end(outlet):
    page = get_text(outlet.base + "/?s=Ankara&paged=500")
    assert '<meta name="robots" content="noindex, follow' in page
    assert "/?s=Ankara&amp;paged=501" in page
    assert "/?s=Ankara&amp;paged=499" in page


# --------------------------------------------------------------------------- command line


def test_cli_prints_one_line_then_serves():
    process = subprocess.Popen(
        [sys.executable, str(SERVER_PATH), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"Serving Turquie Demain on (http://127\.0\.0\.1:(\d+)/)\n", line)
        assert match, line
        status, _, _ = fetch(match.group(1))
        assert status == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert err == ""  # quiet access log
