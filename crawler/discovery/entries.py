"""What discovery yields: one `Entry` per candidate article URL, and date parsing shared by
feeds and sitemaps."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html


@dataclass(frozen=True)
class Entry:
    """A URL found in a feed or sitemap, with whatever the document said about it."""

    url: str  # absolute http(s) URL, resolved against the document URL
    title: str | None = None  # feed item title / news:title
    published: datetime | None = None  # timezone-aware
    modified: datetime | None = None  # feed updated / sitemap lastmod
    via: str = ""  # "rss", "atom", "rdf", "jsonfeed", "sitemap", "news-sitemap", "sitemapindex"


# French feeds written by hand or by local CMSes localise RFC 822 dates
# ("mar., 14 mai 2024 09:32:00 +0200"); map them onto the English tokens email.utils knows.
_FRENCH_MONTHS = {
    "janvier": "Jan", "janv": "Jan", "jan": "Jan",
    "février": "Feb", "fevrier": "Feb", "févr": "Feb", "fevr": "Feb", "fév": "Feb", "fev": "Feb",
    "mars": "Mar",
    "avril": "Apr", "avr": "Apr",
    "mai": "May",
    "juin": "Jun",
    "juillet": "Jul", "juil": "Jul",
    "août": "Aug", "aout": "Aug",
    "septembre": "Sep", "sept": "Sep",
    "octobre": "Oct",
    "novembre": "Nov",
    "décembre": "Dec", "decembre": "Dec", "déc": "Dec",
}  # fmt: skip
_DAY_NAME = re.compile(
    r"^\s*(?:mon|tue|wed|thu|fri|sat|sun|lun|mar|mer|jeu|ven|sam|dim)[a-z]*\.?,?\s+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
# W3C datetime allows reduced precision ("2024", "2024-05"), which fromisoformat rejects.
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
# "2024-05-14T09:32:00 +03:00": some generators put a space before the offset.
_SPACED_OFFSET = re.compile(r"(\d)\s+([+-]\d{2}:?\d{2})$")


def parse_date(value: str | None) -> datetime | None:
    """Parse an RFC 822/2822 or ISO 8601 / W3C datetime into an aware datetime.

    Naive values are taken as UTC; anything unreadable gives None (never raises).
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    try:
        parsed = _parse_iso(text) or _parse_rfc822(text)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _parse_iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    if match := _YEAR_MONTH.match(text):
        return datetime(int(match[1]), int(match[2] or 1), 1, tzinfo=UTC)
    text = _SPACED_OFFSET.sub(r"\1\2", text)
    if text[-1:] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    text = _DAY_NAME.sub("", text)

    def english(match: re.Match[str]) -> str:
        word = match.group(0)
        return _FRENCH_MONTHS.get(word.rstrip(".").lower(), word)

    text = _WORD.sub(english, text)
    return parsedate_to_datetime(text)


# Text helpers shared by the feed and sitemap readers (not part of the public API).

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACES = re.compile(r"\s+")


def _clean_text(value: str | None) -> str | None:
    """Titles: drop markup, decode HTML entities, collapse whitespace; empty → None."""
    if not value:
        return None
    text = html.unescape(_TAG.sub("", value))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def _element_text(el: lxml.etree._Element | None) -> str:
    """Text content of an element, skipping unresolved entity references.

    The parsers never resolve entities (billion laughs, XXE), and an unresolved reference's
    text is its own name ("&xxe;"), which is not content.
    """
    if el is None:
        return ""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(_element_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _absolute_url(value: object, base: str) -> str | None:
    """Resolve `value` against `base`; None unless the result is an http(s) URL with a host."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


# Pages are untrusted: no network access, libxml2's size limits, salvage broken markup.
_HTML_PARSER_OPTIONS = {"no_network": True, "huge_tree": False, "recover": True}


def _parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    """Parse a page leniently; None when there is nothing to parse."""
    if not html:
        return None
    if isinstance(html, str):
        # lxml refuses str input carrying an encoding declaration; hand it UTF-8 bytes instead.
        html = html.encode("utf-8", errors="replace")
        parser = lxml.html.HTMLParser(encoding="utf-8", **_HTML_PARSER_OPTIONS)
    else:
        parser = lxml.html.HTMLParser(**_HTML_PARSER_OPTIONS)
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return None
