"""URL and page judgements: articles, traps, hubs, pagination, dates in URLs, and pages that
declare themselves articles."""

from __future__ import annotations

import re
from datetime import date

import pytest

from crawler.discovery.links import (
    anchor_links,
    date_in_url,
    is_trap,
    looks_like_article,
    looks_like_hub,
    page_is_article,
    pagination_number,
)

# -- looks_like_article ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
        "https://turquie2023.com/2024/05/14/accord/",
        "https://turquie2023.com/2024/05/accord-gazier/",
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/amp/",
        "https://turquie2023.com/?p=48213",
        "https://www.aa.com.tr/fr/politique/la-turquie-et-lazerbaidjan-signent-un-accord/3212345",
        "https://www.aa.com.tr/fr/monde/accord/3212345",
        "https://www.trt.global/français/article/18234567",
        "https://www.trt.global/fran%C3%A7ais/article/18234567",
        "https://www.france24.com/fr/afrique/20240514-le-s%C3%A9n%C3%A9gal-c%C3%A9l%C3%A8bre-son-pr%C3%A9sident",
        "https://www.rfi.fr/fr/europe/20240514-la-turquie-et-la-gr%C3%A8ce-relancent-le-dialogue",
        "https://www.lemonde.fr/international/article/2024/05/14/la-turquie-accord_6233451_3210.html",
        "https://www.lemonde.fr/international/live/2024/05/14/en-direct-guerre_6233451_3210.html",
        "https://www.lefigaro.fr/international/la-turquie-signe-un-accord-20240514",
        "https://www.20minutes.fr/monde/4091234-20240514-turquie-accord-signe",
        "https://www.leparisien.fr/international/turquie-accord-14-05-2024-ABCDEF.php",
        "https://www.liberation.fr/international/turquie-accord-20240514_ABCDEFGHIJ/",
        "https://www.jeuneafrique.com/1567890/politique/senegal-le-nouveau-gouvernement/",
        "https://www.lepoint.fr/monde/accord-gazier-14-05-2024-2560000_24.php",
        "https://www.example-actu.fr/monde/les-allies-de-l-otan-preparent-le-sommet/",
        "https://www.example-actu.fr/actualites/accord-gazier.html",
        "https://www.example-actu.fr/a-12345",
        "https://www.example-actu.fr/depeches/accord_12345.html",
        "https://www.example-actu.fr/spip.php?article1234",
        "https://www.example-actu.fr/article.php?id_article=1234",
        "https://www.example-actu.fr/2024/05/14/accord/?utm_source=twitter&utm_medium=social",
    ],
)
def test_looks_like_article(url: str) -> None:
    assert looks_like_article(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://turquie2023.com/",
        "https://turquie2023.com",
        "https://turquie2023.com/2024/05/14/",
        "https://turquie2023.com/2024/05/",
        "https://turquie2023.com/2024/",
        "https://turquie2023.com/category/politique/",
        "https://turquie2023.com/category/politique/page/2/",
        "https://turquie2023.com/tag/recep-tayyip-erdogan-president-turc/",
        "https://turquie2023.com/author/ayse-demir/",
        "https://turquie2023.com/page/2/",
        "https://www.example-actu.fr/rubrique/international",
        "https://www.example-actu.fr/theme/elections-municipales-en-turquie",
        "https://www.example-actu.fr/fr/politique",
        "https://turquie2023.com/a-propos/",
        "https://turquie2023.com/contact/",
        "https://turquie2023.com/mentions-legales/",
        "https://turquie2023.com/politique-de-confidentialite/",
        "https://www.example-actu.fr/about/",
        "https://www.example-actu.fr/privacy-policy",
        "https://turquie2023.com/feed/",
        "https://turquie2023.com/category/politique/feed/",
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/feed/",
        "https://www.example-actu.fr/rss.xml",
        "https://turquie2023.com/wp-admin/post.php?post=48213&action=edit",
        "https://turquie2023.com/wp-login.php",
        "https://turquie2023.com/wp-json/wp/v2/posts/48213",
        "https://turquie2023.com/wp-content/uploads/2024/05/la-ceremonie-de-signature-a-ankara.jpg",
        "https://www.example-actu.fr/documents/rapport-annuel-2023-de-la-redaction.pdf",
        "https://www.example-actu.fr/podcasts/episode-12345.mp3",
        "https://www.example-actu.fr/media/video-12345.mp4",
        "https://www.example-actu.fr/archive-2024-05-14.zip",
        "https://turquie2023.com/?s=accord+gazier",
        "https://www.example-actu.fr/recherche?q=turquie",
        "https://www.example-actu.fr/agenda/2024/05/14/conference-sur-la-turquie",
        "https://www.example-actu.fr/index.html",
        "mailto:redaction@turquie2023.com",
        "https://www.example-actu.fr/politique/page/3",
    ],
)
def test_does_not_look_like_article(url: str) -> None:
    assert not looks_like_article(url)


def test_looks_like_article_with_outlet_pattern() -> None:
    pattern = re.compile(r"^https?://www\.rfi\.fr/fr/(?:[^/?#]+/)*\d{8}-[^/?#]+")
    assert looks_like_article("https://www.rfi.fr/fr/europe/20240514-dialogue", pattern)
    assert not looks_like_article("https://www.rfi.fr/fr/europe/", pattern)
    # The pattern decides alone, even against the heuristics.
    assert looks_like_article("https://x.fr/category/a/", re.compile("category"))


# -- is_trap ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://turquie2023.com/?s=erdogan",
        "https://turquie2023.com/?s=",
        "https://www.example-actu.fr/search?q=turquie",
        "https://www.example-actu.fr/fr/recherche/?query=gaz",
        "https://www.example-actu.fr/actualites?q=ankara",
        "https://www.example-actu.fr/agenda/",
        "https://www.example-actu.fr/calendar/2024/05/",
        "https://www.example-actu.fr/calendrier/?mois=2024-05",
        "https://www.example-actu.fr/evenements/?month=05",
        "https://www.example-actu.fr/actualites/?date=2024-05-14",
        "https://www.example-actu.fr/events/?ical=1",
        "https://www.example-actu.fr/events/2024-05-14/",
        "https://www.example-actu.fr/events/list/?tribe-bar-date=2024-05-14",
        "https://turquie2023.com/2024/05/14/accord/?replytocom=1234",
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/feed/",
        "https://turquie2023.com/comments/feed/",
        "https://turquie2023.com/2024/05/14/accord/comment-page-2/",
        "https://turquie2023.com/wp-admin/",
        "https://turquie2023.com/wp-login.php?redirect_to=x",
        "https://turquie2023.com/xmlrpc.php",
        "https://www.example-actu.fr/share?url=https://x",
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fturquie2023.com%2F",
        "https://twitter.com/intent/tweet?text=Accord&url=https://turquie2023.com/",
        "https://api.whatsapp.com/send?text=accord",
        "whatsapp://send?text=accord",
        "javascript:void(0)",
        "https://www.example-actu.fr/2024/05/14/accord/?print=1",
        "https://www.example-actu.fr/print/12345",
        "https://www.example-actu.fr/connexion",
        "https://www.example-actu.fr/login?next=/",
        "https://www.example-actu.fr/register",
        "https://www.example-actu.fr/mon-compte/",
        "https://www.example-actu.fr/panier",
        "https://www.example-actu.fr/liste?a=1&b=2&c=3",
        "https://www.example-actu.fr/" + "segment/" * 40,
        "https://www.example-actu.fr/monde/afrique/monde/afrique/",
        "https://www.example-actu.fr/fr/fr/fr/",
        "https://www.example-actu.fr/category/politique/page/501/",
        "https://www.example-actu.fr/politique?page=9999",
    ],
)
def test_is_trap(url: str) -> None:
    assert is_trap(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://turquie2023.com/",
        "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
        "https://turquie2023.com/2024/05/05/accord/",  # a repeated number is a date, not a loop
        "https://turquie2023.com/feed/",
        "https://turquie2023.com/category/politique/feed/",
        "https://turquie2023.com/category/politique/page/500/",
        "https://www.aa.com.tr/fr/politique/la-turquie-et-lazerbaidjan-signent-un-accord/3212345",
        "https://www.trt.global/français/article/18234567",
        "https://www.france24.com/fr/afrique/20240514-le-senegal-celebre-son-nouveau-president",
        "https://www.rfi.fr/fr/europe/20240514-la-turquie-et-la-grece-relancent-le-dialogue",
        "https://www.example-actu.fr/2024/05/14/l-agenda-diplomatique-d-ankara/",
        "https://www.example-actu.fr/2024/05/14/accord/?utm_source=a&utm_medium=b&utm_campaign=c",
        "https://www.example-actu.fr/politique?page=2",
        "https://www.example-actu.fr/article.php?id=12&lang=fr",
    ],
)
def test_is_not_trap(url: str) -> None:
    assert not is_trap(url)


# -- looks_like_hub --------------------------------------------------------------------------

TURQUIE = "https://turquie2023.com/"


@pytest.mark.parametrize(
    ("url", "homepage"),
    [
        ("https://turquie2023.com/category/politique/", TURQUIE),
        ("https://turquie2023.com/category/politique/page/2/", TURQUIE),
        ("https://turquie2023.com/category/monde/moyen-orient/", TURQUIE),
        ("https://turquie2023.com/tag/erdogan/", TURQUIE),
        ("https://turquie2023.com/page/2/", TURQUIE),
        ("https://www.turquie2023.com/politique/", TURQUIE),
        ("https://turquie2023.com/politique/?paged=3", TURQUIE),
        ("https://turquie2023.com/economie/energie/", TURQUIE),
        ("https://www.example-actu.fr/rubrique/international", "https://www.example-actu.fr/"),
        ("https://www.example-actu.fr/theme/turquie?page=2", "https://www.example-actu.fr/"),
        ("https://www.example-actu.fr/dossier/elections-turques", "https://www.example-actu.fr/"),
        ("https://www.example-actu.fr/politique-p2", "https://www.example-actu.fr/"),
        ("https://www.aa.com.tr/fr/politique", "https://www.aa.com.tr/fr"),
        ("https://www.aa.com.tr/fr/monde/afrique", "https://www.aa.com.tr/fr"),
        ("https://www.trt.global/fran%C3%A7ais/politique", "https://www.trt.global/français/"),
        ("https://www.france24.com/fr/afrique/", "https://www.france24.com/fr/"),
        ("https://www.rfi.fr/fr/europe/", "https://www.rfi.fr/fr/"),
    ],
)
def test_looks_like_hub(url: str, homepage: str) -> None:
    assert looks_like_hub(url, homepage)


@pytest.mark.parametrize(
    ("url", "homepage"),
    [
        ("https://turquie2023.com/", TURQUIE),  # the homepage itself
        ("https://other-site.fr/category/politique/", TURQUIE),  # another site
        (
            "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
            TURQUIE,
        ),
        ("https://turquie2023.com/2024/05/", TURQUIE),  # a date archive
        ("https://turquie2023.com/2024/", TURQUIE),
        ("https://turquie2023.com/a-propos/", TURQUIE),
        ("https://turquie2023.com/contact/", TURQUIE),
        ("https://turquie2023.com/feed/", TURQUIE),
        ("https://turquie2023.com/?s=gaz", TURQUIE),
        ("https://turquie2023.com/agenda/", TURQUIE),
        ("https://turquie2023.com/wp-admin/", TURQUIE),
        ("https://turquie2023.com/politique/?orderby=date", TURQUIE),
        ("https://turquie2023.com/category/politique/page/9999/", TURQUIE),
        ("https://turquie2023.com/monde/europe/balkans/", TURQUIE),  # too deep without a keyword
        ("https://turquie2023.com/logo.png", TURQUIE),
        ("https://www.aa.com.tr/en/politics", "https://www.aa.com.tr/fr"),  # another edition
        ("https://www.aa.com.tr/fr", "https://www.aa.com.tr/fr"),
        ("https://www.trt.global/deutsch/politik", "https://www.trt.global/français/"),
        ("https://www.rfi.fr/fr/europe/20240514-la-turquie-et-la-grece", "https://www.rfi.fr/fr/"),
        ("mailto:redaction@turquie2023.com", TURQUIE),
    ],
)
def test_does_not_look_like_hub(url: str, homepage: str) -> None:
    assert not looks_like_hub(url, homepage)


# -- pagination_number -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://turquie2023.com/page/2/", 2),
        ("https://turquie2023.com/category/politique/page/17/", 17),
        ("https://turquie2023.com/category/politique/page/3", 3),
        ("https://www.example-actu.fr/politique?page=4", 4),
        ("https://turquie2023.com/?paged=5", 5),
        ("https://turquie2023.com/politique/?paged=6&utm_source=x", 6),
        ("https://www.example-actu.fr/actualites?p=7", 7),
        ("https://www.example-actu.fr/actualites?p=8&page=8", 8),
        ("https://www.example-actu.fr/politique-p9", 9),
        ("https://www.example-actu.fr/politique/actualites-p10.html", 10),
        ("https://www.example-actu.fr/politique/p11", 11),
        ("https://turquie2023.com/category/politique/page/1/", 1),
        ("https://turquie2023.com/" + "page/1000000/", 1000000),
        # Not paginated
        ("https://turquie2023.com/", None),
        ("https://turquie2023.com/category/politique/", None),
        ("https://turquie2023.com/2024/05/14/accord/", None),
        ("https://turquie2023.com/?p=48213", None),  # WordPress post id, not a page
        ("https://www.example-actu.fr/actualites?p=7&s=gaz", None),
        ("https://www.example-actu.fr/actualites?page=deux", None),
        ("https://www.example-actu.fr/pages/contact", None),
        ("https://www.aa.com.tr/fr/politique/la-turquie-accord/3212345", None),
    ],
)
def test_pagination_number(url: str, expected: int | None) -> None:
    assert pagination_number(url) == expected


# -- date_in_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://turquie2023.com/2024/05/14/la-turquie-et-lazerbaidjan-signent-un-accord/",
            date(2024, 5, 14),
        ),
        ("https://turquie2023.com/2024/05/14/", date(2024, 5, 14)),
        ("https://turquie2023.com/2024/5/4/accord/", date(2024, 5, 4)),
        ("https://www.france24.com/fr/afrique/20240514-le-senegal-celebre", date(2024, 5, 14)),
        ("https://www.rfi.fr/fr/europe/20240514-la-turquie-et-la-grece", date(2024, 5, 14)),
        ("https://www.example-actu.fr/20240514/accord", date(2024, 5, 14)),
        ("https://www.lefigaro.fr/international/accord-20240514", date(2024, 5, 14)),
        ("https://www.20minutes.fr/monde/4091234-20240514-turquie-accord", date(2024, 5, 14)),
        ("https://www.leparisien.fr/international/accord-14-05-2024-ABCDEF.php", date(2024, 5, 14)),
        ("https://www.example-actu.fr/2024-05-14/accord", date(2024, 5, 14)),
        (
            "https://www.lemonde.fr/international/article/2024/05/14/accord_6233451_3210.html",
            date(2024, 5, 14),
        ),
        # A year or a month is not a day.
        ("https://turquie2023.com/2024/05/", None),
        ("https://turquie2023.com/2024/05/accord-gazier/", None),
        ("https://turquie2023.com/2024/", None),
        # Ids that are not dates.
        ("https://www.trt.global/français/article/18234567", None),
        ("https://www.aa.com.tr/fr/politique/la-turquie-accord/3212345", None),
        ("https://www.example-actu.fr/article/20241399-x", None),
        ("https://turquie2023.com/2024/02/30/accord/", None),
        ("https://turquie2023.com/", None),
    ],
)
def test_date_in_url(url: str, expected: date | None) -> None:
    assert date_in_url(url) == expected


# -- page_is_article -------------------------------------------------------------------------


def page(head: str) -> str:
    return f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>{head}</head></html>"


YOAST_GRAPH = """<script type="application/ld+json" class="yoast-schema-graph">
{"@context":"https://schema.org","@graph":[
 {"@type":"Article","@id":"https://turquie2023.com/2024/05/14/accord/#article",
  "headline":"La Turquie et l’Azerbaïdjan signent un accord",
  "datePublished":"2024-05-14T09:32:00+00:00"},
 {"@type":"WebPage","@id":"https://turquie2023.com/2024/05/14/accord/"},
 {"@type":"WebSite","@id":"https://turquie2023.com/#website","name":"Turquie 2023"}]}
</script>"""

YOAST_HOME_GRAPH = """<script type="application/ld+json" class="yoast-schema-graph">
{"@context":"https://schema.org","@graph":[
 {"@type":"CollectionPage","@id":"https://turquie2023.com/"},
 {"@type":"WebSite","@id":"https://turquie2023.com/#website"},
 {"@type":"ItemList","itemListElement":[{"@type":"ListItem","item":{"@type":"NewsArticle"}}]},
 {"@type":"Organization","@id":"https://turquie2023.com/#organization"}]}
</script>"""


@pytest.mark.parametrize(
    "html",
    [
        page('<meta property="og:type" content="article" />'),
        page('<meta property="OG:TYPE" content="Article">'),
        page(YOAST_GRAPH),
        page(
            '<script type="application/ld+json">'
            '{"@context":"https://schema.org","@type":"NewsArticle","headline":"Accord"}</script>'
        ),
        page(
            '<script type="application/ld+json">[[{"@type":"BreadcrumbList"}],'
            '[{"@type":["CreativeWork","ReportageNewsArticle"]}]]</script>'
        ),
        page('<script type="application/ld+json">{"@type":"LiveBlogPosting"}</script>'),
        page(
            '<script type="application/ld+json">{"@type":"https://schema.org/BlogPosting"}</script>'
        ),
        page(
            '<script type="application/ld+json">{"@type":"WebPage",'
            '"mainEntity":{"@type":"OpinionNewsArticle"}}</script>'
        ),
        page(
            # Broken JSON-LD is ignored; the next block still counts.
            '<script type="application/ld+json">{"@type": "NewsArticle",,}</script>'
            '<script type="application/ld+json">\n<!--\n{"@type":"AnalysisNewsArticle",'
            '"description":"une ligne\npuis une autre"}\n-->\n</script>'
        ),
        page(YOAST_GRAPH).encode("utf-8"),
    ],
)
def test_page_is_article(html: str | bytes) -> None:
    assert page_is_article(html)


@pytest.mark.parametrize(
    "html",
    [
        page('<meta property="og:type" content="website" />' + YOAST_HOME_GRAPH),
        page('<script type="application/ld+json">{"@type": "NewsArticle", </script>'),
        page('<script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>"),
        page('<script type="text/javascript">var x = {"@type": "NewsArticle"};</script>'),
        page('<script type="application/ld+json">{"@type": 42, "@graph": "nope"}</script>'),
        page(""),
        "",
        b"",
        b"\x00\xff garbage",
    ],
)
def test_page_is_not_article(html: str | bytes) -> None:
    assert not page_is_article(html)


# -- anchor_links ------------------------------------------------------------------------------


def test_anchor_links_resolves_unescapes_and_skips_what_is_no_link() -> None:
    page = """<html><head><base href="/fr/"></head><body>
    <a class=x href="actualite/2024/05/01/un-article">one</a>
    <A HREF='https://autre.example/page?a=1&amp;b=2'>two</A>
    <a href=/absolu/chemin>three</a>
    <area shape="rect" href="carte">
    <!-- <a href="/commente">hidden</a> -->
    <a href="javascript:void(0)">js</a> <a href="mailto:a@b.fr">mail</a> <a href="#top">top</a>
    <a name="ancre">no href</a> <a data-href="/pas-un-lien">data</a>
    <a href="actualite/2024/05/01/un-article">again</a>
    <a href="/été/élysée">accents</a>
    </body></html>""".encode()
    assert anchor_links(page, "https://site.example/fr/rubrique/page.html") == [
        "https://site.example/fr/actualite/2024/05/01/un-article",
        "https://autre.example/page?a=1&b=2",
        "https://site.example/absolu/chemin",
        "https://site.example/fr/carte",
        "https://site.example/été/élysée",
    ]


def test_anchor_links_reads_the_page_encoding_and_survives_an_unknown_one() -> None:
    page = '<a href="/société">x</a>'.encode("cp1252")
    assert anchor_links(page, "https://site.example/", "cp1252") == ["https://site.example/société"]
    assert anchor_links(b'<a href="/a">x</a>', "https://site.example/", "x-unknown") == [
        "https://site.example/a"
    ]
