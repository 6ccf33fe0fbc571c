"""Feed discovery: RSS 2.0, Atom, JSON Feed and RDF documents, feed links in pages, dates, and
hostile documents (entity bombs, external entities)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery.entries import Entry, parse_date
from crawler.discovery.feeds import feed_urls_in_html, looks_like_feed, parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
PLUS_2 = timezone(timedelta(hours=2))
PLUS_3 = timezone(timedelta(hours=3))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- parse_date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 14 May 2024 09:32:00 +0000", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
        ("Tue, 14 May 2024 09:32:00 GMT", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
        ("Tue, 14 May 2024 11:32:00 +0200", datetime(2024, 5, 14, 11, 32, tzinfo=PLUS_2)),
        ("14 May 2024 09:32 -0000", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
        ("mar., 14 mai 2024 11:32:00 +0200", datetime(2024, 5, 14, 11, 32, tzinfo=PLUS_2)),
        ("lundi 01 avril 2024 22:05:00 +0200", datetime(2024, 4, 1, 22, 5, tzinfo=PLUS_2)),
        ("2024-05-14", datetime(2024, 5, 14, tzinfo=UTC)),
        ("2024-05-14T09:32:00+03:00", datetime(2024, 5, 14, 9, 32, tzinfo=PLUS_3)),
        ("2024-05-14T09:32Z", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
        ("2024-05-14T09:32:00.123+03:00", datetime(2024, 5, 14, 9, 32, 0, 123000, tzinfo=PLUS_3)),
        ("2024-05-14 09:32:00", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
        ("2024-05-14T09:32:00 +03:00", datetime(2024, 5, 14, 9, 32, tzinfo=PLUS_3)),
        ("2024-05", datetime(2024, 5, 1, tzinfo=UTC)),
        ("  2024-05-14T09:32:00Z\n", datetime(2024, 5, 14, 9, 32, tzinfo=UTC)),
    ],
)
def test_parse_date_reads_rfc822_and_w3c_dates(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "not a date",
        "0000-00-00 00:00:00",
        "2024-13-45",
        "2024-02-30T10:00:00Z",
        "Tue, 31 Feb 2024 09:32:00 +0000",
        "Tue, 14 May 2024 09:32:00 +9900",
        "13/05/2024",
        "9" * 5000,
        "2024-05-14T" + "9" * 300,
    ],
)
def test_parse_date_returns_none_for_invalid_values(value: str | None) -> None:
    assert parse_date(value) is None


# -- RSS 2.0 ---------------------------------------------------------------------------------


def test_wordpress_rss2_feed() -> None:
    entries = parse_feed(fixture("wordpress-rss2.xml"), "https://turquie2023.com/feed/")
    assert [e.url for e in entries] == [
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
        "https://turquie2023.com/2024/04/01/elections-municipales-istanbul-ankara/",
        "https://turquie2023.com/2024/03/20/un-lien-relatif-ecrit-a-la-main/",
        "https://turquie2023.com/2024/03/19/sans-lien-guid-permalien/",
    ]
    first, second, third, fourth = entries
    assert first == Entry(
        url="https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
        title="La Turquie et l’Azerbaïdjan signent un accord gazier",
        published=datetime(2024, 5, 14, 9, 32, tzinfo=UTC),
        via="rss",
    )
    # CDATA title with an escaped ampersand; localised (French) RFC 822 date.
    assert second.title == "Élections municipales : Istanbul & Ankara restent à l’opposition"
    assert second.published == datetime(2024, 4, 1, 22, 5, tzinfo=PLUS_2)
    # HTML named entity (undefined in XML) decoded; relative link resolved; bad date → None.
    assert third.title == "Un lien relatif écrit à la main"
    assert third.published is None
    # No <link>: the guid is used because it is a permalink; dc:date read.
    assert fourth.published == datetime(2024, 3, 19, 8, 0, tzinfo=PLUS_3)
    assert all(e.via == "rss" for e in entries)


def test_rss_guid_that_is_not_a_permalink_is_not_a_link() -> None:
    body = b"""<rss version="2.0"><channel>
        <item><title>x</title><guid isPermaLink="false">https://example.fr/?p=1</guid></item>
        <item><title>y</title><guid isPermaLink="true">https://example.fr/2024/05/14/y</guid></item>
    </channel></rss>"""
    assert [e.url for e in parse_feed(body, "https://example.fr/feed/")] == [
        "https://example.fr/2024/05/14/y"
    ]


def test_feedburner_original_link_is_preferred() -> None:
    body = b"""<?xml version="1.0"?>
    <rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel>
      <item>
        <title>Accord</title>
        <link>https://feedproxy.google.com/~r/journal/~3/AbCdEf/</link>
        <feedburner:origLink>https://www.journal.fr/monde/accord-12345.html</feedburner:origLink>
      </item>
    </channel></rss>"""
    [entry] = parse_feed(body, "https://feeds.feedburner.com/journal")
    assert entry.url == "https://www.journal.fr/monde/accord-12345.html"


# -- Atom ------------------------------------------------------------------------------------


def test_atom_feed_with_xml_base_and_relative_links() -> None:
    url = "https://www.example-actu.fr/international/atom.xml"
    entries = parse_feed(fixture("atom-xmlbase.xml"), url)
    assert [e.url for e in entries] == [
        "https://www.example-actu.fr/international/2024/05/14/ankara-bakou-accord",
        "https://www.example-actu.fr/europe/2024/05/13/grece-turquie-dialogue",
        "https://www.example-actu.fr/?p=991",  # no alternate link: the id is a permalink
    ]
    first, second, third = entries
    assert first.title == "Ankara & Bakou : l’accord historique"  # type="html", markup dropped
    assert first.published == datetime(2024, 5, 14, 9, 32, tzinfo=PLUS_3)
    assert first.modified == datetime(2024, 5, 14, 11, 2, tzinfo=UTC)
    assert second.title == "La Grèce et la Turquie relancent le dialogue"  # type="xhtml"
    assert second.published == datetime(2024, 5, 13, tzinfo=UTC)
    assert second.modified is None  # "13/05/2024" is not a W3C date
    assert third.published is None
    assert all(e.via == "atom" for e in entries)


def test_atom_prefers_html_alternate() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
        <title>t</title>
        <link rel="alternate" type="application/pdf" href="https://e.fr/a.pdf"/>
        <link rel="alternate" type="text/html" href="https://e.fr/2024/05/14/article"/>
    </entry></feed>"""
    [entry] = parse_feed(body, "https://e.fr/atom")
    assert entry.url == "https://e.fr/2024/05/14/article"


# -- JSON Feed and RDF -----------------------------------------------------------------------


def test_json_feed() -> None:
    entries = parse_feed(fixture("jsonfeed.json"), "https://blog-diplo.example.org/feed.json")
    assert entries == [
        Entry(
            url="https://blog-diplo.example.org/2024/05/14/otan-sommet-washington",
            title="L’OTAN prépare le sommet de Washington",
            published=datetime(2024, 5, 14, 9, 32, tzinfo=PLUS_2),
            modified=datetime(2024, 5, 14, 12, 0, tzinfo=PLUS_2),
            via="jsonfeed",
        ),
        Entry(
            url="https://blog-diplo.example.org/2024/05/10/lien-externe-relatif",
            via="jsonfeed",
        ),
    ]


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1, 2]", b'{"items": "nope"}', b"[" * 100_000 + b"]" * 100_000, b"{}"],
)
def test_broken_json_feeds_give_nothing(body: bytes) -> None:
    assert parse_feed(body, "https://e.fr/feed.json") == []


def test_rdf_feed() -> None:
    entries = parse_feed(fixture("rdf.xml"), "https://www.journal-rdf.example.fr/rss")
    assert entries == [
        Entry(
            url="https://www.journal-rdf.example.fr/depeche/12345",
            title="Séisme en Anatolie : premier bilan",  # decoded from ISO-8859-1
            published=datetime(2024, 5, 14, 6, 15, tzinfo=PLUS_2),
            via="rdf",
        ),
        Entry(
            url="https://www.journal-rdf.example.fr/depeche/12346",  # from rdf:about
            title="Dépêche sans lien",
            published=datetime(2024, 5, 13, tzinfo=UTC),
            via="rdf",
        ),
    ]


# -- malformed and hostile input -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"\x00\x01\x02garbage",
        b"<html><body>404</body></html>",
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>",
        "<rss><channel><item><title>é</title>".encode("utf-16"),
    ],
)
def test_non_feeds_give_nothing(body: bytes) -> None:
    assert parse_feed(body, "https://e.fr/feed/") == []


def test_truncated_feed_keeps_complete_items() -> None:
    body = fixture("wordpress-rss2.xml")
    cut = body.index(b"<item>", body.index(b"<item>") + 1) + 40
    entries = parse_feed(body[:cut], "https://turquie2023.com/feed/")
    assert entries[0].url.endswith("/la-turquie-et-lazerbaidjan-signent-un-accord/")


def billion_laughs(root: bytes) -> bytes:
    """An entity-expansion bomb: &lol9; would expand to 10^9 "lol"s."""
    entities = b'<!ENTITY lol "lol">\n' + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    return b'<?xml version="1.0"?>\n<!DOCTYPE %s [\n%s]>\n' % (root, entities)


def test_billion_laughs_feed_is_not_expanded() -> None:
    body = billion_laughs(b"rss") + (
        b'<rss version="2.0"><channel>'
        b"<item><title>&lol9;</title><link>https://e.fr/2024/05/14/bombe</link></item>"
        b"<item><title>ok</title><link>https://e.fr/&lol9;</link></item>"
        b"</channel></rss>"
    )
    start = time.monotonic()
    entries = parse_feed(body, "https://e.fr/feed/")
    assert time.monotonic() - start < 2
    assert len(entries) <= 2
    for entry in entries:
        assert "lollol" not in entry.url and "lollol" not in (entry.title or "")
        assert len(entry.url) < 100


def test_external_entity_feed_is_not_resolved() -> None:
    body = b"""<?xml version="1.0"?>
    <!DOCTYPE rss [
      <!ENTITY xxe SYSTEM "file:///etc/passwd">
      <!ENTITY remote SYSTEM "http://127.0.0.1:9/evil.dtd">
    ]>
    <rss version="2.0"><channel>
      <item><title>Avant &xxe; apr&egrave;s &remote;</title>
            <link>https://e.fr/2024/05/14/xxe</link></item>
      <item><title>lien</title><link>&xxe;</link></item>
    </channel></rss>"""
    start = time.monotonic()
    entries = parse_feed(body, "https://e.fr/feed/")
    assert time.monotonic() - start < 2
    assert [e.url for e in entries] == ["https://e.fr/2024/05/14/xxe"]
    assert entries[0].title == "Avant après"
    assert "root:" not in repr(entries)


def test_atom_external_entity_is_not_resolved() -> None:
    body = b"""<?xml version="1.0"?>
    <!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <feed xmlns="http://www.w3.org/2005/Atom">
      <entry><title>&xxe;</title><link href="https://e.fr/a-12345"/></entry>
    </feed>"""
    [entry] = parse_feed(body, "https://e.fr/atom")
    assert entry.title is None
    assert "root:" not in repr(entry)


# -- looks_like_feed -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("wordpress-rss2.xml", "application/rss+xml; charset=UTF-8"),
        ("wordpress-rss2.xml", "text/html"),  # mislabelled, sniffed anyway
        ("atom-xmlbase.xml", "application/xml"),
        ("rdf.xml", ""),
        ("jsonfeed.json", "application/json"),
    ],
)
def test_looks_like_feed(name: str, content_type: str) -> None:
    assert looks_like_feed(fixture(name), content_type)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><head><title>Accueil</title>", "text/html"),
        (b"<!doctype html>\n<html lang=fr>", "application/rss+xml"),  # an error page
        (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/"/>', "text/xml"),
        (b'{"posts": []}', "application/json"),
        (b"", ""),
        (b"User-agent: *", "text/plain"),
    ],
)
def test_does_not_look_like_feed(body: bytes, content_type: str) -> None:
    assert not looks_like_feed(body, content_type)


def test_looks_like_feed_skips_prologue() -> None:
    body = (
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?xml-stylesheet href="/rss.xsl"?>\n'
        b'<!-- generator: custom -->\n<rss version="2.0"><channel/></rss>'
    )
    assert looks_like_feed(body)
    assert looks_like_feed(b'<feed xmlns="http://www.w3.org/2005/Atom">', "")
    assert looks_like_feed(b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">')
    assert looks_like_feed(b'{"items": []}', "application/feed+json")
    assert not looks_like_feed(b"", "application/rss+xml")


# -- feed_urls_in_html -----------------------------------------------------------------------


def test_feed_urls_in_wordpress_page() -> None:
    url = "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/"
    expected = [
        "https://turquie2023.com/feed/",
        "https://turquie2023.com/category/politique/feed/",
        "https://turquie2023.com/feed/atom/",
        url + "feed.json",
    ]
    html = fixture("wordpress-post.html")
    assert feed_urls_in_html(html, url) == expected
    assert feed_urls_in_html(html.decode("utf-8"), url) == expected


def test_feed_urls_honour_base_href_and_encoding_declarations() -> None:
    page = """<?xml version="1.0" encoding="ISO-8859-1"?>
    <html><head><base href="https://www.journal.fr/fr/">
    <link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>"""
    assert feed_urls_in_html(page, "https://www.journal.fr/") == [
        "https://www.journal.fr/fr/atom.xml"
    ]


@pytest.mark.parametrize("page", ["", b"", "<html>", b"\x00\xff\xfe", "pas du html"])
def test_feed_urls_in_junk(page: str | bytes) -> None:
    assert feed_urls_in_html(page, "https://e.fr/") == []


def test_decoded_text_is_tolerated() -> None:
    text = fixture("wordpress-rss2.xml").decode("utf-8")
    assert len(parse_feed(text, "https://turquie2023.com/feed/")) == 4  # type: ignore[arg-type]
    assert looks_like_feed(text)  # type: ignore[arg-type]
