"""Sitemap discovery: sitemap indexes, urlsets, Google News sitemaps, gzip, plain-text
sitemaps, robots.txt, and hostile documents (entity bombs, external entities, gzip bombs)."""

from __future__ import annotations

import gzip
import time
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery.entries import Entry
from crawler.discovery.sitemaps import SitemapDoc, parse_sitemap, sitemaps_from_robots

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
PLUS_2 = timezone(timedelta(hours=2))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_yoast_sitemap_index() -> None:
    doc = parse_sitemap(
        fixture("yoast-sitemap-index.xml"), "https://turquie2023.com/sitemap_index.xml"
    )
    assert doc.kind == "sitemapindex"
    assert [e.url for e in doc.entries] == [
        "https://turquie2023.com/post-sitemap.xml",
        "https://turquie2023.com/post-sitemap2.xml",
        "https://turquie2023.com/page-sitemap.xml",
        "https://turquie2023.com/category-sitemap.xml",  # relative <loc> resolved
        "https://turquie2023.com/author-sitemap.xml",
    ]
    assert all(e.via == "sitemapindex" for e in doc.entries)
    assert doc.entries[0].modified == datetime(2024, 5, 14, 9, 40, 12, tzinfo=UTC)
    assert doc.entries[3].modified == datetime(2024, 5, 14, tzinfo=UTC)
    assert doc.entries[4].modified is None


def test_urlset_with_lastmod() -> None:
    doc = parse_sitemap(fixture("urlset.xml"), "https://turquie2023.com/post-sitemap.xml")
    assert doc == SitemapDoc(
        "urlset",
        [
            Entry(
                url="https://turquie2023.com/",
                modified=datetime(2024, 5, 14, 9, 40, 12, tzinfo=UTC),
                via="sitemap",
            ),
            Entry(
                url="https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
                modified=datetime(2024, 5, 14, 9, 32, tzinfo=UTC),
                via="sitemap",
            ),
            Entry(
                url="https://turquie2023.com/2024/04/01/elections-municipales-istanbul-ankara/",
                modified=datetime(2024, 4, 1, tzinfo=UTC),
                via="sitemap",
            ),
            # WordPress's "0000-00-00 00:00:00" is no date; javascript: and loc-less <url> dropped.
            Entry(url="https://turquie2023.com/2024/03/20/date-invalide/", via="sitemap"),
        ],
    )


def test_gzipped_sitemap_is_detected_by_magic_number() -> None:
    body = gzip.compress(fixture("urlset.xml"))
    # Served under a .xml name: the magic number decides, not the extension.
    doc = parse_sitemap(body, "https://turquie2023.com/post-sitemap.xml")
    assert doc == parse_sitemap(fixture("urlset.xml"), "https://turquie2023.com/post-sitemap.xml")
    assert len(doc.entries) == 4
    # A .gz name whose body the HTTP layer already decompressed.
    plain = parse_sitemap(fixture("urlset.xml"), "https://turquie2023.com/post-sitemap.xml.gz")
    assert plain.kind == "urlset"


def test_google_news_sitemap() -> None:
    doc = parse_sitemap(fixture("news-sitemap.xml"), "https://www.rfi.fr/fr/sitemaps/news.xml")
    assert doc.kind == "urlset"
    first, second, third = doc.entries
    assert first == Entry(
        url="https://www.rfi.fr/fr/europe/20240514-la-turquie-et-la-gr%C3%A8ce-relancent-le-dialogue",
        title="La Turquie et la Grèce relancent le dialogue & la coopération",
        published=datetime(2024, 5, 14, 9, 32, tzinfo=PLUS_2),
        modified=datetime(2024, 5, 14, 10, 5, tzinfo=UTC),
        via="news-sitemap",
    )
    assert second.title == "Sénégal : le nouveau gouvernement"
    assert second.published == datetime(2024, 5, 13, tzinfo=UTC)
    assert second.modified is None
    assert second.via == "news-sitemap"
    assert third == Entry(url="https://www.rfi.fr/fr/podcasts/", via="sitemap")


def test_gzipped_news_sitemap() -> None:
    body = gzip.compress(fixture("news-sitemap.xml"))
    doc = parse_sitemap(body, "https://www.rfi.fr/fr/sitemaps/news.xml.gz")
    assert [e.via for e in doc.entries] == ["news-sitemap", "news-sitemap", "sitemap"]
    assert doc.entries[0].title is not None


def test_plain_text_sitemap() -> None:
    doc = parse_sitemap(fixture("plain-sitemap.txt"), "https://www.example-actu.fr/sitemap.txt")
    assert doc == SitemapDoc(
        "urlset",
        [
            Entry(
                url="https://www.example-actu.fr/international/2024/05/14/ankara-bakou-accord",
                via="sitemap",
            ),
            Entry(
                url="https://www.example-actu.fr/europe/2024/05/13/grece-turquie-dialogue",
                via="sitemap",
            ),
            Entry(url="https://www.example-actu.fr/a-propos/", via="sitemap"),
        ],
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"User-agent: *\nDisallow: /\n",
        b"<!DOCTYPE html><html><body><a href='https://e.fr/x'>x</a></body></html>",
        b'<rss version="2.0"><channel><item><link>https://e.fr/a</link></item></channel></rss>',
        b"<html",
        b"\x00\x01\x02\x03",
    ],
)
def test_non_sitemaps_give_kind_none(body: bytes) -> None:
    assert parse_sitemap(body, "https://e.fr/sitemap.xml") == SitemapDoc(None, [])


def test_truncated_sitemap_keeps_what_was_read() -> None:
    assert parse_sitemap(b"<urlset", "https://e.fr/sitemap.xml") == SitemapDoc("urlset", [])
    body = fixture("urlset.xml")
    cut = body.index(b"<url>", body.index(b"date-invalide") - 100)
    doc = parse_sitemap(body[: cut + 20], "https://turquie2023.com/post-sitemap.xml")
    assert doc.kind == "urlset"
    assert [e.url for e in doc.entries][:3] == [
        "https://turquie2023.com/",
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
        "https://turquie2023.com/2024/04/01/elections-municipales-istanbul-ankara/",
    ]


def test_sitemap_index_ignores_url_elements_and_vice_versa() -> None:
    body = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>https://e.fr/s1.xml</loc></sitemap>
        <url><loc>https://e.fr/stray-page</loc></url>
    </sitemapindex>"""
    assert [e.url for e in parse_sitemap(body, "https://e.fr/sitemap.xml").entries] == [
        "https://e.fr/s1.xml"
    ]


# -- gzip: corrupt and bombs ---------------------------------------------------------------


def zeros_gzip(size: int) -> bytes:
    """`size` bytes of zeros, gzipped in chunks so the test never holds them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    chunk = b"\x00" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_gzip_bomb_is_bounded_by_max_size() -> None:
    bomb = zeros_gzip(100 * 1024 * 1024)
    assert len(bomb) < 200_000
    start = time.monotonic()
    doc = parse_sitemap(bomb, "https://e.fr/sitemap.xml.gz", max_size=1024 * 1024)
    assert time.monotonic() - start < 2
    assert doc == SitemapDoc(None, [])


def test_gzip_over_max_size_even_when_valid() -> None:
    body = gzip.compress(fixture("urlset.xml"))
    assert parse_sitemap(body, "https://e.fr/s.xml", max_size=100) == SitemapDoc(None, [])
    assert parse_sitemap(fixture("urlset.xml"), "https://e.fr/s.xml", max_size=100).kind is None


@pytest.mark.parametrize(
    "body",
    [b"\x1f\x8b\x08" + b"\x00" * 7 + b"garbage", b"\x1f\x8b\x08", gzip.compress(b"")[:12]],
)
def test_corrupt_gzip_gives_kind_none(body: bytes) -> None:
    assert parse_sitemap(body, "https://e.fr/sitemap.xml.gz") == SitemapDoc(None, [])


# -- entity bombs and external entities ------------------------------------------------------


def billion_laughs(root: bytes) -> bytes:
    entities = b'<!ENTITY lol "lol">\n' + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    return b'<?xml version="1.0"?>\n<!DOCTYPE %s [\n%s]>\n' % (root, entities)


def test_billion_laughs_sitemap_is_not_expanded() -> None:
    body = billion_laughs(b"urlset") + (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://e.fr/2024/05/14/literal</loc></url>"
        b"<url><loc>https://e.fr/&lol9;</loc></url>"
        b"</urlset>"
    )
    start = time.monotonic()
    doc = parse_sitemap(body, "https://e.fr/sitemap.xml")
    assert time.monotonic() - start < 2
    assert doc.kind in ("urlset", None)
    assert all("lollol" not in e.url and len(e.url) < 100 for e in doc.entries)
    assert {e.url for e in doc.entries} <= {"https://e.fr/2024/05/14/literal", "https://e.fr/"}


def test_external_entity_sitemap_is_not_resolved() -> None:
    body = b"""<?xml version="1.0"?>
    <!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://e.fr/2024/05/14/literal</loc>
        <news:news><news:title>Titre &xxe;</news:title>
        <news:publication_date>2024-05-14</news:publication_date></news:news>
      </url>
      <url><loc>&xxe;</loc></url>
    </urlset>"""
    start = time.monotonic()
    doc = parse_sitemap(body, "https://e.fr/sitemap.xml")
    assert time.monotonic() - start < 2
    assert doc.kind == "urlset"
    assert [e.url for e in doc.entries] == ["https://e.fr/2024/05/14/literal"]
    assert doc.entries[0].title == "Titre"
    assert "root:" not in repr(doc)


# -- robots.txt ------------------------------------------------------------------------------


def test_sitemaps_from_robots() -> None:
    robots = fixture("robots.txt")
    url = "https://turquie2023.com/robots.txt"
    expected = [
        "https://turquie2023.com/sitemap_index.xml",  # relative, resolved
        "https://turquie2023.com/news-sitemap.xml",  # lower- and upper-case, deduplicated
    ]
    assert sitemaps_from_robots(robots, url) == expected
    assert sitemaps_from_robots(robots.decode(), url) == expected  # str input, no warning


@pytest.mark.parametrize(
    "robots",
    [b"", "User-agent: *\nDisallow:\n", b"\xff\xfe\x00garbage", b"Sitemap: javascript:x\n"],
)
def test_robots_without_sitemaps(robots: str | bytes) -> None:
    assert sitemaps_from_robots(robots, "https://e.fr/robots.txt") == []


def test_decoded_text_is_tolerated() -> None:
    text = fixture("urlset.xml").decode("utf-8")
    doc = parse_sitemap(text, "https://turquie2023.com/post-sitemap.xml")  # type: ignore[arg-type]
    assert doc.kind == "urlset" and len(doc.entries) == 4
