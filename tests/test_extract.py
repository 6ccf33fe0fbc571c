"""Extraction rules on small pages written for each rule."""

from __future__ import annotations

import pytest

from archive.credits import credit_agencies, split_credit_lines
from archive.dates import normalise_date
from archive.extract import clean_authors, clean_lines, clean_title, decode_html, extract

BODY = " ".join(
    [
        "Le ministre turc des Affaires étrangères a reçu mardi à Ankara son homologue "
        "azerbaïdjanais pour évoquer la reconstruction et les corridors de transport."
    ]
    * 6
)


def page(head: str = "", body: str = "", lang: str = ' lang="fr"') -> str:
    return f"<!doctype html><html{lang}><head>{head}</head><body>{body}</body></html>"


ARTICLE_HEAD = (
    '<meta property="og:type" content="article">'
    '<meta property="og:site_name" content="Le Bosphore">'
    '<meta property="og:title" content="Accord gazier signé à Bakou – Le Bosphore">'
    '<meta property="article:published_time" content="2024-05-14T09:32:00+03:00">'
    '<meta property="article:modified_time" content="2024-05-15T10:00:00+03:00">'
)


def article_body(extra_after: str = "", extra_before: str = "") -> str:
    return (
        f"<article><h1>Accord gazier signé à Bakou</h1>{extra_before}"
        f'<div class="entry-content"><p>{BODY}</p><p>{BODY}</p>{extra_after}</div></article>'
    )


def test_article_metadata_comes_from_what_the_page_declares():
    result = extract(page(ARTICLE_HEAD, article_body()), "https://example.org/2024/05/14/accord/")
    assert result.is_article
    assert result.title == "Accord gazier signé à Bakou"
    assert result.published == "2024-05-14T09:32:00+03:00"
    assert result.published_source == "meta"
    assert result.modified == "2024-05-15T10:00:00+03:00"
    assert result.language == "fr" and result.language_source == "page"


def test_json_ld_wins_over_meta_and_gives_authors():
    jsonld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"WebPage"},{"@type":"NewsArticle","headline":"Titre JSON-LD",'
        '"datePublished":"2024-05-13T08:00:00+03:00","author":[{"@type":"Person",'
        '"name":"Par Selin Aydın"},{"@type":"Person","name":"Le Bosphore"}],'
        '"publisher":{"@type":"Organization","name":"Le Bosphore"}}]}</script>'
    )
    result = extract(page(ARTICLE_HEAD + jsonld, article_body()), "https://example.org/a/")
    assert result.title == "Titre JSON-LD"
    assert result.published == "2024-05-13T08:00:00+03:00"
    assert result.published_source == "json-ld"
    assert result.authors == ["Selin Aydın"]


def test_feed_hint_fills_a_missing_date_and_language_is_detected():
    html = page('<meta property="og:type" content="article">', article_body(), lang="")
    result = extract(html, "https://example.org/x/", hint_published="2024-02-01T10:00:00+00:00")
    assert result.published == "2024-02-01T10:00:00+00:00"
    assert result.published_source in {"feed", "htmldate"}
    assert result.language == "fr" and result.language_source == "detected"


def test_boilerplate_lines_and_credit_are_removed_from_the_body():
    after = (
        "<p>AA</p><p>Partager cet article? https://example.org/2024/05/14/accord/</p>"
        '<div class="sharedaddy"><h3>Partagez.</h3></div>'
        '<div class="author-box"><h4>À propos de l\'auteur</h4><p>Journaliste.</p></div>'
    )
    before = '<span class="comments-link"><a href="#comments">0</a></span>'
    result = extract(page(ARTICLE_HEAD, article_body(after, before)), "https://example.org/a/")
    lines = result.text.splitlines()
    assert "0" not in lines and "AA" not in lines
    assert "Partager" not in result.text and "Partagez" not in result.text
    assert "propos de l" not in result.text
    assert result.credits == ["Anadolu"]
    assert BODY in result.text


@pytest.mark.parametrize(
    ("line", "agencies"),
    [
        ("AA", ["Anadolu"]),
        ("TRT FR", ["TRT"]),
        ("Avec AFP", ["AFP"]),
        ("(Reuters)", ["Reuters"]),
        ("AA / TRT FR", ["Anadolu", "TRT"]),
        ("Source : Xinhua", ["Xinhua"]),
        ("L'AFP rapporte que les négociations continuent.", []),
        ("Selon Reuters, la réunion a eu lieu mardi.", []),
    ],
)
def test_credit_lines(line, agencies):
    assert credit_agencies(line) == agencies


def test_credit_inside_prose_is_kept():
    lines = ["Selon l'agence Anadolu (AA), le sommet aura lieu en juin.", "TRT FR"]
    kept, credits = split_credit_lines(lines)
    assert kept == lines[:1] and credits == ["TRT"]


def test_clean_lines_keeps_numbers_inside_prose():
    text, credits = clean_lines("12\nLe bilan s'élève à 12 morts.\n2024\nPartagez.")
    assert text == "Le bilan s'élève à 12 morts." and credits == []


def test_site_name_suffix_and_prefix_are_removed_from_titles():
    assert clean_title(["Accord signé | NTV Haber"], "NTV Haber") == "Accord signé"
    assert clean_title(["Taipei Times - Typhoon warning"], "Taipei Times") == "Typhoon warning"
    assert clean_title(["Le - et la – ponctuation"], "Le Bosphore") == "Le - et la – ponctuation"


def test_authors_are_a_clean_list():
    assert clean_authors(["Par Marc Delorme et Elif Karaca"], "Le Bosphore") == [
        "Marc Delorme",
        "Elif Karaca",
    ]
    assert clean_authors(["By redaction@example.org", "Le Bosphore"], "Le Bosphore") == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            "<html><head></head><body><p>Érevan, où l’on négocie</p></body></html>".encode(
                "cp1252"
            ),
            "text/html; charset=windows-1252",
        ),
        (
            b'<html><head><meta charset="iso-8859-1"></head>'
            + "<body><p>Érevan, où</p></body></html>".encode("latin-1"),
            "text/html",
        ),
        ("\ufeff<html><body><p>Érevan, où l’on négocie</p></body></html>".encode(), "text/html"),
    ],
)
def test_decoding_follows_header_then_meta_then_bom(body, content_type):
    text, _encoding = decode_html(body, content_type)
    assert "Érevan, où" in text


def test_listing_and_static_pages_are_not_articles():
    links = "".join(
        f'<li><a href="/2024/05/{i:02d}/titre-{i}/">Un titre d’article assez long numéro {i}</a>'
        f"<p>Résumé court.</p></li>"
        for i in range(1, 20)
    )
    listing = extract(
        page('<meta property="og:type" content="website">', f"<ul>{links}</ul>"),
        "https://example.org/category/monde/",
    )
    assert not listing.is_article and "og:type=website" in listing.reason
    undeclared = extract(page("", f"<ul>{links}</ul>"), "https://example.org/monde/")
    assert not undeclared.is_article


def test_broken_and_empty_pages_are_not_articles_and_do_not_raise():
    assert not extract(b"", "https://example.org/").is_article
    assert not extract(b"\x00\x01\x02garbage", "https://example.org/").is_article
    assert not extract("<html><body><p>Trop court.</p>", "https://example.org/").is_article


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-14T09:32:00+03:00", "2024-05-14T09:32:00+03:00"),
        ("2024-05-14T06:32:00Z", "2024-05-14T06:32:00+00:00"),
        ("2024-05-14", "2024-05-14"),
        ("Tue, 14 May 2024 09:32:00 +0300", "2024-05-14T09:32:00+03:00"),
        ("hier", None),
        ("0000-00-00", None),
        ("", None),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected
