"""Quality and language signals, and what the archive does with them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import sqlite_utils

from archive.extract import extract
from archive.ingest import Archive
from archive.language import base_code, choose_language, detect_language
from archive.page import RawPage
from archive.seeds import load_seeds

FRENCH = (
    "Le ministre turc des Affaires étrangères a reçu mardi à Ankara son homologue "
    "azerbaïdjanais pour évoquer la reconstruction, les corridors de transport et la "
    "délimitation de la frontière, a indiqué le ministère dans un communiqué. "
)
ENGLISH = (
    "Turkey's foreign minister received his Azerbaijani counterpart in Ankara on Tuesday "
    "to discuss reconstruction, transport corridors and the delimitation of the border, "
    "the ministry said in a statement published after the meeting. "
)


LINKS = "".join(
    f'<li><a href="/2024/05/{i:02d}/titre-{i}/">'
    f"Un titre d’article assez long pour une liste, numéro {i}</a></li>"
    for i in range(1, 20)
)


def page(text: str, head: str = "", lang: str = "fr", extra: str = "") -> str:
    paragraphs = "".join(f"<p>{text} {n}</p>" for n in range(4))
    return (
        f'<!doctype html><html lang="{lang}"><head><meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-05-14T10:00:00+03:00">'
        f"{head}</head><body><article><h1>Un titre</h1>{paragraphs}{extra}</article></body></html>"
    )


# -- language ------------------------------------------------------------------------------------


def test_language_with_confidence_and_expected_language():
    result = extract(page(FRENCH), "https://x.example/a/", expected_language="fr")
    assert result.language == "fr" and result.language_source == "page"
    assert result.language_confidence > 0.9
    assert not result.language_mismatch


def test_an_article_in_another_language_is_flagged():
    result = extract(page(ENGLISH, lang="en"), "https://x.example/a/", expected_language="fr")
    assert result.language == "en" and result.language_mismatch
    assert any("outlet expects fr" in w for w in result.warnings)


def test_a_wrong_declaration_loses_to_a_sure_detection():
    result = extract(page(ENGLISH, lang="fr"), "https://x.example/a/", expected_language="fr")
    assert result.language == "en" and result.language_source == "detected"
    assert result.language_mismatch


def test_language_helpers():
    assert base_code("fr-FR") == "fr" and base_code("tr_TR") == "tr" and base_code("") is None
    assert detect_language("trop court") == (None, 0.0)
    assert choose_language(None, FRENCH * 2)[0:2] == ("fr", "detected")
    assert choose_language("fr", "") == ("fr", "page", 0.0, False)


# -- warnings and judgements -----------------------------------------------------------------------


def test_paywall_is_a_warning_not_a_rejection():
    jsonld = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Un titre",'
        '"isAccessibleForFree":"False"}</script>'
    )
    result = extract(page(FRENCH, jsonld), "https://x.example/a/")
    assert result.is_article
    assert any(w.startswith("probable paywall") for w in result.warnings)


def test_subscription_notice_and_truncation():
    extra = "<p>La suite de cet article est réservée aux abonnés.</p>"
    result = extract(page(FRENCH, extra=extra), "https://x.example/a/")
    assert any(w.startswith("probable paywall") for w in result.warnings)
    cut = extract(
        page(FRENCH, extra="<p>Le ministre a ensuite ajouté que…</p>"), "https://x.example/a/"
    )
    assert any(w.startswith("probable truncation") for w in cut.warnings)


def test_declared_word_count_reveals_a_truncated_text():
    jsonld = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Un titre",'
        '"wordCount":"900"}</script>'
    )
    result = extract(page(FRENCH, jsonld), "https://x.example/a/")
    assert any("of the 900 the page declares" in w for w in result.warnings)


def test_short_body_is_kept_with_a_warning():
    result = extract(
        page("Un bref de quinze mots sur la visite du ministre à Bakou mardi."),
        "https://x.example/a/",
    )
    assert result.is_article and result.word_count < 80
    assert any(w.startswith("short body") for w in result.warnings)


def test_empty_and_very_short_pages_are_not_articles():
    empty = extract(page("").replace("<p> 0</p>", ""), "https://x.example/a/")
    assert not empty.is_article
    short = extract(
        '<html><head><meta property="og:type" content="article"></head>'
        "<body><p>Trois mots ici.</p>",
        "https://x.example/a/",
    )
    assert not short.is_article and "very short body" in short.reason


def test_listings_are_not_articles():
    links = LINKS
    html = f"<html><body><ul>{links}</ul><p>{FRENCH * 2}</p></body></html>"
    result = extract(html, "https://x.example/monde/")
    assert not result.is_article and "looks like a listing" in result.reason
    collection = (
        '<html><head><script type="application/ld+json">{"@type":"CollectionPage"}</script>'
        f"</head><body><p>{FRENCH * 4}</p></body></html>"
    )
    assert "looks like a listing" in extract(collection, "https://x.example/monde/").reason


# -- in the archive --------------------------------------------------------------------------------


def raw(url: str, html: str) -> RawPage:
    return RawPage(
        url=url,
        outlet="bosphore",
        role="article",
        fetched_at="2024-05-14T10:00:00+00:00",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=html.encode(),
    )


def seeds(tmp_path: Path):
    path = tmp_path / "outlets.toml"
    path.write_text(
        '[[outlet]]\nslug = "bosphore"\nname = "Le Bosphore"\n'
        'homepage = "https://x.example/"\nlanguage = "fr"\n',
        encoding="utf-8",
    )
    return load_seeds(path)


def test_signals_are_stored_and_non_articles_are_recorded_with_the_reason(tmp_path):
    archive = Archive(tmp_path / "archive.db", seeds(tmp_path))
    links = LINKS
    listing = archive.ingest(
        raw("https://x.example/monde/", f"<html><body><ul>{links}</ul></body></html>")
    )
    english = archive.ingest(raw("https://x.example/2024/05/14/en/", page(ENGLISH, lang="en")))
    french = archive.ingest(raw("https://x.example/2024/05/14/fr/", page(FRENCH)))
    archive.close()
    assert listing.kind == "not-article" and english.kind == french.kind == "archived"
    conn = sqlite3.connect(tmp_path / "archive.db")
    conn.row_factory = sqlite3.Row
    (fetch,) = conn.execute("select error from fetches where url like '%/monde/'").fetchall()
    assert "looks like a listing" in fetch["error"]
    rows = {
        r["url"].rstrip("/").rsplit("/", 1)[-1]: r
        for r in conn.execute("select * from articles").fetchall()
    }
    conn.close()
    assert rows["en"]["language"] == "en" and rows["en"]["language_mismatch"] == 1
    assert "outlet expects fr" in json.loads(rows["en"]["warnings"])[0]
    assert rows["fr"]["language_mismatch"] == 0 and rows["fr"]["warnings"] is None
    assert rows["fr"]["language_confidence"] > 0.9 and rows["fr"]["encoding"] == "utf-8"


def test_existing_archives_get_the_new_columns(tmp_path):
    db_path = tmp_path / "old.db"
    old = sqlite_utils.Database(db_path)
    old["articles"].create({"id": int, "url": str, "outlet": str, "title": str}, pk="id")
    old.conn.close()
    Archive(db_path).close()
    columns = set(sqlite_utils.Database(db_path)["articles"].columns_dict)
    assert {
        "language_confidence",
        "language_mismatch",
        "warnings",
        "encoding",
        "credits",
    } <= columns


def test_hostile_markup_never_raises():
    deep = "[" * 5000 + "]" * 5000
    html = f'<html><head><script type="application/ld+json">{deep}</script></head>'
    assert not extract(html + f"<body><p>{FRENCH}</p></body></html>", "https://x/").is_article
    assert not extract(b"\xff\xfe<\x00h\x00", "https://x/").is_article
    assert not extract("<?xml version='1.0' encoding='utf-8'?><html/>", "https://x/").is_article


def test_an_unexpected_error_is_a_reason_not_a_crash(monkeypatch):
    import archive.extract as module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "find_lead", broken)
    result = extract(page(FRENCH), "https://x.example/a/")
    assert not result.is_article and "extraction failed" in result.reason
