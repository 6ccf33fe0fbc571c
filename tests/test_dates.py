"""The publication date: its order of evidence, never the modification date, never made up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.dates import (
    EVIDENCE_ORDER,
    choose_published,
    normalise_date,
    parse_date_text,
    url_date,
)
from archive.extract import extract

PARAGRAPH = (
    "Le ministre turc des Affaires étrangères a reçu mardi à Ankara son homologue "
    "azerbaïdjanais pour évoquer la reconstruction et les corridors de transport. "
) * 3


def page(head: str = "", before_h1: str = "", after_h1: str = "") -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta property="og:type" content="article">'
        f"{head}</head><body><header>{before_h1}</header><article>"
        f"<h1>Accord gazier signé à Bakou</h1>{after_h1}<p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
        "</article></body></html>"
    )


JSONLD = (
    '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Accord",'
    '"datePublished":"2024-05-13T08:00:00+03:00","dateModified":"2024-05-20T11:00:00+03:00"}'
    "</script>"
)
META = '<meta property="article:published_time" content="2024-05-12T09:30:00+03:00">'
MODIFIED = '<meta property="article:modified_time" content="2024-05-21T10:00:00+03:00">'
DATELINE = '<p class="date">Publié le 11 mai 2024 à 07:45</p>'
URL = "https://example.org/2024/05/10/accord-gazier/"
NO_DATE_URL = "https://example.org/monde/accord-gazier/"
FEED = "2024-05-09T06:00:00+00:00"


@pytest.mark.parametrize(
    ("head", "after_h1", "url", "hint", "expected", "source"),
    [
        (JSONLD + META, DATELINE, URL, FEED, "2024-05-13T08:00:00+03:00", "json-ld"),
        (META + MODIFIED, DATELINE, URL, FEED, "2024-05-12T09:30:00+03:00", "meta"),
        (MODIFIED, DATELINE, URL, FEED, "2024-05-11T07:45:00", "dateline"),
        (MODIFIED, "", URL, FEED, "2024-05-10", "url"),
        (MODIFIED, "", NO_DATE_URL, FEED, "2024-05-09T06:00:00+00:00", "feed"),
    ],
)
def test_order_of_evidence(head, after_h1, url, hint, expected, source):
    result = extract(page(head, after_h1=after_h1), url, hint_published=hint)
    assert (result.published, result.published_source) == (expected, source)
    assert EVIDENCE_ORDER.index(source) >= 0


def test_htmldate_comes_last():
    head = '<meta name="date" content="garbage">'
    body = '<abbr class="published" title="2024-05-08">8 mai</abbr>'
    result = extract(page(head, after_h1=body), NO_DATE_URL)
    assert result.published_source in {"htmldate", "dateline"}
    assert result.published.startswith("2024-05-08")


def test_the_modification_date_is_never_the_publication_date():
    result = extract(page(MODIFIED, after_h1=""), NO_DATE_URL)
    assert result.modified == "2024-05-21T10:00:00+03:00"
    assert result.published is None


def test_an_updated_dateline_is_skipped():
    dateline = (
        '<time class="updated" datetime="2024-05-20T10:00:00+03:00">Mis à jour le 20 mai</time>'
        '<span class="date">Publié le 11 mai 2024 - Mis à jour le 20 mai 2024</span>'
    )
    result = extract(page(after_h1=dateline), NO_DATE_URL)
    assert result.published == "2024-05-11"
    assert result.published_source == "dateline"


def test_a_page_without_a_trustworthy_date_says_so_instead_of_taking_today():
    today = datetime.now(UTC).strftime("%d/%m/%Y")
    # The site header prints today's date above the headline, as many news sites do.
    result = extract(page(before_h1=f'<span class="date">{today}</span>'), NO_DATE_URL)
    assert result.is_article
    assert result.published is None and result.published_source is None
    assert "no trustworthy publication date" in result.warnings


def test_time_and_timezone_are_kept():
    result = extract(page(JSONLD), URL)
    assert result.published == "2024-05-13T08:00:00+03:00"


def test_a_day_gets_its_time_from_a_later_source_on_the_same_day():
    head = '<meta name="pubdate" content="2024-05-12">'
    dateline = '<time datetime="2024-05-12T09:30:00+03:00">12 mai 2024</time>'
    result = extract(page(head, after_h1=dateline), NO_DATE_URL)
    assert result.published == "2024-05-12T09:30:00+03:00"
    assert result.published_source == "meta"


def test_update_time_copied_into_the_published_field_loses_to_the_url():
    jsonld = JSONLD.replace("2024-05-13T08:00:00+03:00", "2024-05-20T11:00:00+03:00")
    result = extract(page(jsonld), URL)
    assert result.published == "2024-05-10" and result.published_source == "url"
    # ...but not when the URL day is the evening before (a draft).
    result = extract(page(jsonld), "https://example.org/2024/05/19/accord/")
    assert result.published == "2024-05-20T11:00:00+03:00"


def test_future_and_ancient_dates_are_not_trusted():
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert choose_published([("json-ld", "2031-01-01"), ("meta", "2024-05-01")], now=now) == (
        "2024-05-01",
        "meta",
    )
    assert choose_published([("json-ld", "1970-01-01")], now=now) == (None, None)


def test_later_sources_are_only_computed_when_needed():
    calls: list[str] = []

    def htmldate() -> str:
        calls.append("htmldate")
        return "2020-01-01"

    value = choose_published([("json-ld", "2024-05-13T08:00:00+03:00"), ("htmldate", htmldate)])
    assert value == ("2024-05-13T08:00:00+03:00", "json-ld") and calls == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-14T09:32:00+03:00", "2024-05-14T09:32:00+03:00"),
        ("2024-05-14T06:32:00Z", "2024-05-14T06:32:00+00:00"),
        ("2024-05-14T09:32:00+0300", "2024-05-14T09:32:00+03:00"),
        ("2025-02-04T13:41:03.0000000Z", "2025-02-04T13:41:03+00:00"),
        ("2024-04-28 07:00:00Z", "2024-04-28T07:00:00+00:00"),
        ("2024-05-14", "2024-05-14"),
        ("Tue, 14 May 2024 09:32:00 +0300", "2024-05-14T09:32:00+03:00"),
        (["", "2024-05-14"], "2024-05-14"),
        ("hier", None),
        ("0000-00-00", None),
        ("", None),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28.04.2023", "2023-04-28"),
        ("Datum 28.04.2023", "2023-04-28"),
        ("30 avril 2015 à 07:19", "2015-04-30T07:19:00"),
        ("1er mars 2024", "2024-03-01"),
        ("3. Mai 2024, 17:47", "2024-05-03T17:47:00"),
        ("Publicerad 23 okt 2025 kl 10.23", "2025-10-23T10:23:00"),
        ("17:41 JST, October 13, 2024", "2024-10-13T17:41:00"),
        ("20 Nisan 2026", "2026-04-20"),
        ("14 mai 2024 à 09h32 UTC", "2024-05-14T09:32:00+00:00"),
        ("12/05/2024 10:00 GMT+3", "2024-05-12T10:00:00+03:00"),
        ("4/28/2023", "2023-04-28"),
        ("sans date", None),
    ],
)
def test_dates_written_for_people(text, expected):
    assert parse_date_text(text) == expected


def test_american_pages_read_month_first():
    assert parse_date_text("05/04/2024", month_first=True) == "2024-05-04"
    assert parse_date_text("05/04/2024") == "2024-04-05"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/2024/05/14/slug/", "2024-05-14"),
        ("http://politics.people.com.cn/n1/2024/0424/c1001-40223222.html", "2024-04-24"),
        ("https://x.example/politics/20241013-216478/", "2024-10-13"),
        ("https://www.rfi.fr/fr/afrique/20230528-slug", "2023-05-28"),
        ("https://x.example/2026/01/slug/", None),
        ("https://x.example/News/front/archives/2003825372", None),
    ],
)
def test_url_dates(url, expected):
    assert url_date(url) == expected
