"""The demo outlets change between crawls, and speak WordPress's REST API.

Unit-level HTTP tests on the demo server (tests/fixtures/demo_outlet/server.py):
`site.edit`, `site.delete` and `site.publish` change every route at once (article
page, feed, sitemaps, listings, REST API); conditional requests get 304; the REST
API answers as WordPress 6.4 does; L’Écho d’Anatolie republishes with edits.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import re
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
API_LINK = 'rel="https://api.w.org/"'


@pytest.fixture
def outlet(demo_site):
    """A Turquie Demain of the test's own: the test changes it."""
    server = demo_site.make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def echo(demo_site):
    server = demo_site.make_server("127.0.0.1", 0, outlet="echo-anatolie")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str, headers: dict[str, str] | None = None):
    """(status, headers, body), without raising on 4xx."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def page(url: str) -> str:
    status, headers, body = fetch(url)
    assert status == 200, url
    return body.decode(headers.get_content_charset() or "utf-8")


def api(url: str):
    status, headers, body = fetch(url)
    return status, headers, json.loads(body)


def json_ld_article(html: str) -> dict:
    script = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    graph = json.loads(script.group(1))
    return next(node for node in graph["@graph"] if node["@type"] == "NewsArticle")


def sitemap_entries(base: str) -> dict[str, str]:
    """Every post URL of the sitemaps with its lastmod."""
    entries = {}
    for path in ("/post-sitemap.xml", "/post-sitemap2.xml.gz"):
        status, _, body = fetch(base + path)
        assert status == 200
        if path.endswith(".gz"):
            body = gzip.decompress(body)
        for url in ET.fromstring(body).iter(f"{SM}url"):
            entries[url.findtext(f"{SM}loc")] = url.findtext(f"{SM}lastmod")
    return entries


def feed_links(base: str) -> list[str]:
    return [item.findtext("link") for item in ET.fromstring(fetch(base + "/feed/")[2]).iter("item")]


# -- edit, delete, publish -----------------------------------------------------------


def test_an_edit_changes_the_article_and_bumps_its_modification_date(outlet):
    server, base = outlet
    article = server.site.by_id[41]  # recent: in the feed too
    url = base + article["path"]
    before = page(url)
    edited = server.site.edit(
        41,
        title="Euro 2024 : les supporters turcs plus nombreux que prévu en Allemagne",
        paragraphs=[*article["paragraphs"][:-1], "Un paragraphe ajouté après publication."],
    )
    assert edited["modified"] > article["modified"]
    assert edited["modified"].endswith("+03:00")  # the outlet's clock
    after = page(url)
    assert after != before
    assert '<h1 class="entry-title">Euro 2024 : les supporters turcs plus nombreux' in after
    assert "Un paragraphe ajouté après publication." in after
    assert article["paragraphs"][-1] not in after
    ld = json_ld_article(after)
    assert (ld["dateModified"], ld["datePublished"]) == (edited["modified"], article["published"])
    assert f'<meta property="article:modified_time" content="{edited["modified"]}">' in after
    _, headers, _ = fetch(url)
    last_modified = email.utils.parsedate_to_datetime(headers["Last-Modified"])
    assert last_modified == datetime.fromisoformat(edited["modified"])
    assert sitemap_entries(base)[url] == edited["modified"]
    feed = ET.fromstring(fetch(base + "/feed/")[2])
    titles = [item.findtext("title") for item in feed.iter("item")]
    assert edited["title"] in titles
    _, _, post = api(f"{base}/wp-json/wp/v2/posts/41")
    assert post["modified"] == edited["modified"][:19]
    assert post["title"]["rendered"] == edited["title"]
    # An edit with a given date, as a test replaying history needs.
    dated = server.site.edit(
        5, title="Haut-Karabakh : titre corrigé", modified="2024-01-20T09:00:00+03:00"
    )
    assert (
        json_ld_article(page(base + dated["path"]))["dateModified"] == "2024-01-20T09:00:00+03:00"
    )


def test_a_deleted_article_is_gone_from_every_route(outlet):
    server, base = outlet
    article = server.site.by_id[40]
    url = base + article["path"]
    assert url in sitemap_entries(base) and url in feed_links(base)
    server.site.delete(40)
    assert fetch(url)[0] == 404
    assert fetch(url + "amp/")[0] == 404
    assert fetch(f"{base}/?p=40")[0] == 404
    assert url not in sitemap_entries(base)
    assert url not in feed_links(base)
    assert article["path"] not in page(f"{base}/category/{article['category']}/")
    assert article["path"] not in page(base + "/")
    status, _, error = api(f"{base}/wp-json/wp/v2/posts/40")
    assert (status, error["code"]) == (404, "rest_post_invalid_id")
    _, headers, posts = api(f"{base}/wp-json/wp/v2/posts?per_page=100")
    assert headers["X-WP-Total"] == "41" and 40 not in [p["id"] for p in posts]
    # An outlet can also answer 410 Gone.
    gone = server.site.by_id[39]
    server.site.delete(39, status=410)
    assert fetch(base + gone["path"])[0] == 410
    with pytest.raises(KeyError):
        server.site.delete(39)


def test_a_published_article_appears_on_every_route(outlet):
    server, base = outlet
    new = server.site.publish(
        {
            "title": "Santé : Ankara inaugure un nouvel hôpital de ville",
            "paragraphs": ["Le premier paragraphe de l’article.", "Le second paragraphe."],
            "tags": ["santé"],
        }
    )
    assert new["id"] == 43 and new["path"].startswith("/20")
    url = base + new["path"]
    html = page(url)
    assert json_ld_article(html)["datePublished"] == new["published"] == new["modified"]
    assert feed_links(base)[0] == url  # newest first
    assert url in sitemap_entries(base)
    news = fetch(base + "/news-sitemap.xml")[2].decode()
    assert new["path"] in news
    assert new["path"] in page(base + "/")
    assert new["path"] in page(f"{base}/category/monde/")
    _, headers, posts = api(f"{base}/wp-json/wp/v2/posts?per_page=1")
    assert posts[0]["id"] == 43 and headers["X-WP-Total"] == "43"
    with pytest.raises(ValueError):
        server.site.publish({"title": "Sans texte"})


def test_conditional_requests_get_304_until_the_article_changes(outlet):
    server, base = outlet
    url = base + server.site.by_id[12]["path"]
    status, headers, _ = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"')
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    server.site.edit(12, paragraphs=["Un texte entièrement réécrit."])
    assert fetch(url, {"If-None-Match": etag})[0] == 200
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 200
    _, feed_headers, _ = fetch(base + "/feed/")
    assert fetch(base + "/feed/", {"If-None-Match": feed_headers["ETag"]})[0] == 304


# -- the WordPress REST API ----------------------------------------------------------


def test_homepage_and_pages_announce_the_api_as_wordpress_does(outlet):
    _, base = outlet
    status, headers, body = fetch(base + "/")
    assert f'<link rel="https://api.w.org/" href="{base}/wp-json/">' in body.decode()
    assert f"<{base}/wp-json/>; {API_LINK}" in headers.get_all("Link")
    _, headers, _ = fetch(base + "/2024/01/19/" + "x/")  # a 404 page announces it too
    assert f"<{base}/wp-json/>; {API_LINK}" in headers.get_all("Link")
    status, headers, index = api(base + "/wp-json/")
    assert status == 200 and headers["Content-Type"] == "application/json; charset=UTF-8"
    assert index["name"] == "Turquie Demain" and "wp/v2" in index["namespaces"]
    assert index["gmt_offset"] == 3 and index["url"] == base
    assert "/wp/v2/posts" in index["routes"]
    assert api(base + "/wp-json")[0] == 200
    assert api(base + "/?rest_route=/")[2]["name"] == "Turquie Demain"


def test_posts_are_shaped_and_paginated_as_wordpress_does(outlet):
    server, base = outlet
    status, headers, posts = api(f"{base}/wp-json/wp/v2/posts")
    assert status == 200 and len(posts) == 10
    assert (headers["X-WP-Total"], headers["X-WP-TotalPages"]) == ("42", "5")
    links = headers.get_all("Link")
    assert f"<{base}/wp-json/>; {API_LINK}" in links
    assert f'<{base}/wp-json/wp/v2/posts?page=2>; rel="next"' in links
    newest = server.site.recent[0]
    post = posts[0]
    assert post["id"] == newest["id"] and post["status"] == "publish" and post["type"] == "post"
    assert post["link"] == base + newest["path"] and post["slug"] == newest["slug"]
    assert post["date"] == newest["published"][:19]  # site time, no offset
    assert post["date_gmt"] == "2024-06-21T08:05:00"  # 11:05+03:00
    assert post["title"]["rendered"] == newest["title"]
    assert post["content"]["rendered"].startswith("<p>")
    assert {"self", "collection"} <= set(post["_links"])
    assert list(post)[:11] == [
        "id", "date", "date_gmt", "guid", "modified", "modified_gmt", "slug", "status", "type",
        "link", "title",
    ]  # fmt: skip
    # page, per_page (at most 100), order and orderby.
    _, headers, last = api(f"{base}/wp-json/wp/v2/posts?page=5")
    assert len(last) == 2 and f'<{base}/wp-json/wp/v2/posts?page=4>; rel="prev"' in headers.get_all(
        "Link"
    )
    _, headers, everything = api(f"{base}/wp-json/wp/v2/posts?per_page=100&orderby=id&order=asc")
    assert [p["id"] for p in everything] == list(range(1, 43)) and headers["X-WP-TotalPages"] == "1"
    same = api(f"{base}/?rest_route=/wp/v2/posts&per_page=100&orderby=id&order=asc")[2]
    assert same == everything
    assert api(f"{base}/wp-json/wp/v2/posts/?per_page=3")[2] == posts[:3]  # trailing slash


def test_date_filters_and_fields(outlet):
    server, base = outlet
    # Exclusive bounds; without an offset, a date is the site's time (+03:00).
    site_time = timezone(timedelta(hours=3))
    after = datetime(2024, 5, 14, tzinfo=site_time)
    before = server.site.by_id[42]["published"]  # excluded
    query = urlencode({"after": "2024-05-14T00:00:00", "before": before})
    _, headers, posts = api(f"{base}/wp-json/wp/v2/posts?{query}")
    expected = [
        a["id"]
        for a in server.site.recent
        if after < datetime.fromisoformat(a["published"]) < datetime.fromisoformat(before)
    ]
    assert [p["id"] for p in posts] == expected == [41, 40, 39, 38, 37, 36]
    assert headers["X-WP-Total"] == "6"
    _, _, utc = api(f"{base}/wp-json/wp/v2/posts?after=2024-06-21T08:04:59Z")
    assert [p["id"] for p in utc] == [42]
    _, _, none = api(f"{base}/wp-json/wp/v2/posts?after=2024-06-21T08:05:00Z")
    assert none == []
    _, headers, modified = api(f"{base}/wp-json/wp/v2/posts?modified_after=2024-06-01T00:00:00")
    assert modified and all(p["modified"] > "2024-06-01" for p in modified)
    _, _, older = api(f"{base}/wp-json/wp/v2/posts?modified_before=2024-01-10T00:00:00&order=asc")
    assert [p["id"] for p in older] == [1, 2]
    _, _, fields = api(f"{base}/wp-json/wp/v2/posts?per_page=2&_fields=id,link,title.rendered")
    assert [set(p) for p in fields] == [{"id", "link", "title"}] * 2
    assert set(fields[0]["title"]) == {"rendered"}


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("per_page=101", "rest_invalid_param", "Invalid parameter(s): per_page"),
        ("per_page=0", "rest_invalid_param", "Invalid parameter(s): per_page"),
        ("per_page=ten", "rest_invalid_param", "Invalid parameter(s): per_page"),
        ("page=0", "rest_invalid_param", "Invalid parameter(s): page"),
        (
            "page=6",
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        ),
        ("after=yesterday", "rest_invalid_param", "Invalid parameter(s): after"),
        (
            "modified_before=2024-01-01",
            "rest_invalid_param",
            "Invalid parameter(s): modified_before",
        ),
        ("order=up", "rest_invalid_param", "Invalid parameter(s): order"),
        ("orderby=rank", "rest_invalid_param", "Invalid parameter(s): orderby"),
        ("orderby=relevance", "rest_no_search_term_defined", "You need to define a search term"),
    ],
)
def test_bad_parameters_get_wordpress_errors(outlet, query, code, message):
    _, base = outlet
    status, _, error = api(f"{base}/wp-json/wp/v2/posts?{query}")
    assert status == 400
    assert error["code"] == code and error["message"].startswith(message)
    assert error["data"]["status"] == 400
    if code == "rest_invalid_param":
        (name,) = error["data"]["params"]
        assert name in query and error["data"]["details"][name]["code"].startswith("rest_")


def test_unknown_routes(outlet):
    _, base = outlet
    status, _, error = api(f"{base}/wp-json/wp/v2/nothing")
    assert (status, error["code"]) == (404, "rest_no_route")
    assert api(f"{base}/wp-json/wp/v2/posts/999")[2]["code"] == "rest_post_invalid_id"


# -- L’Écho d’Anatolie ---------------------------------------------------------------


def test_echo_republishes_with_small_edits_in_its_own_theme(demo_site, echo):
    server, base = echo
    originals = {a["id"]: a for a in demo_site.load_articles()}
    articles = demo_site.load_articles("echo-anatolie")
    republished = [a for a in articles if "republishes" in a]
    assert len(republished) == 9 and len(articles) == 13
    for article in republished:
        original = originals[article["republishes"]]
        assert article["title"] != original["title"] or article["republishes"] == 35
        assert article["published"] > original["published"][:10]
        assert article["paragraphs"][1:] != original["paragraphs"]  # an edit besides the intro
        assert article["credit"] and "Turquie Demain" in article["credit"]
    karabakh = server.site.by_id[202]
    assert karabakh["republishes"] == 5
    html = page(base + karabakh["path"])
    assert "Anatolie Mag" in html and "TD News" not in html
    assert 'class="am-body"' in html and karabakh["paragraphs"][0] in html
    assert "Avec Turquie Demain" in html
    assert f'<link rel="https://api.w.org/" href="{base}/wp-json/">' in page(base + "/")
    assert api(f"{base}/wp-json/")[2]["name"] == "L’Écho d’Anatolie"
    _, headers, _ = api(f"{base}/wp-json/wp/v2/posts")
    assert headers["X-WP-Total"] == "13"
    assert "L’Écho d’Anatolie" in page(base + "/feed/")
