"""Dates as the archive stores them, and the order of evidence for a publication date.

`published` is when the outlet first published the article, never when it last changed
it (that is `modified`), with the time and offset whenever the page gives them. The
evidence is taken in this order, the first trustworthy value winning:

1. JSON-LD `datePublished` of the article object (`NewsArticle`, `BlogPosting`, …), then of
   another creative work on the page (`ClaimReview`, `WebPage`, …).
2. `<meta>` publication tags: `article:published_time`, `datePublished` (itemprop),
   `og:published_time`, `publish-date`, `pubdate`, `DC.date.issued`, …
3. The visible dateline near the headline: a `<time datetime>` after the `<h1>`, an
   element marked `itemprop="datePublished"`, an element whose class says date
   (`date`, `published`, `dateline`, `tarih`, `datum`, …), or a "Published: …" label.
   Anything labelled as an update ("Mis à jour", "Updated", "Güncelleme") is skipped.
4. A full date in the URL (`/2024/05/14/`, `/20240514-…`).
5. The date of the feed or sitemap entry that listed the page.
6. htmldate on the page's markup, without its extensive free-text search (which finds
   "today's date" in site headers and would stamp the crawl day on undated pages).

A value is untrustworthy when it cannot be parsed, lies before 1990 or more than a day in
the future. Two corrections follow: when the winner is the page's own modification date
and the URL names a day at least two days earlier, the URL's day wins (some CMSs copy
the update time into every field); and when the winner has no time, a later JSON-LD,
meta or dateline value on the same day supplies it. A page with no trustworthy date
keeps `published` empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import lxml.html

DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

EVIDENCE_ORDER = ("json-ld", "meta", "dateline", "url", "feed", "htmldate")

MIN_YEAR = 1990


def normalise_date(value: object) -> str | None:
    """An ISO 8601 string for a date the page or a feed gave, or None if it is not one.

    A day without a time stays a day ("2024-05-14"): inventing midnight would
    claim a precision the source did not give.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return next(filter(None, (normalise_date(v) for v in value)), None)
    text = str(value).strip()
    if not text:
        return None
    if DAY_ONLY.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    # Seven fractional digits (.NET) and "+0300" offsets are common; fromisoformat wants neither.
    candidate = re.sub(r"(\.\d{6})\d+", r"\1", candidate)
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if not MIN_YEAR <= parsed.year <= 2100:
        return None
    return parsed.isoformat()


def day_of(value: str | None) -> date | None:
    """The calendar day of an ISO date string, as written (the outlet's local day)."""
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _moment(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def has_time(value: str | None) -> bool:
    return bool(value) and "T" in value


def trustworthy(value: str | None, now: datetime | None = None) -> bool:
    """Parsable, not before 1990, not more than a day in the future."""
    if not value:
        return False
    day = day_of(value)
    if day is None or day.year < MIN_YEAR:
        return False
    limit = (now or datetime.now(UTC)) + timedelta(days=1)
    moment = _moment(value) if has_time(value) else None
    if moment is not None:
        return moment <= limit
    return day <= limit.date()


Evidence = tuple[str, str | Callable[[], str | None] | None]


def choose_published(
    evidence: Iterable[Evidence], modified: str | None = None, now: datetime | None = None
) -> tuple[str | None, str | None]:
    """(value, source) of the publication date, from evidence in order of trust.

    `evidence` yields (source, value) pairs in EVIDENCE_ORDER; a value may be a callable,
    evaluated only when the sources before it left the answer open (htmldate is not free).
    """
    chosen: tuple[str, str] | None = None
    for source, raw in evidence:
        if chosen is not None and not _open(chosen, modified):
            break
        if chosen is not None and source not in (*EARLIER_DAY_SOURCES, *PRECISE_SOURCES):
            continue  # could not change the answer: not worth computing
        value = normalise_date(raw() if callable(raw) else raw)
        if not trustworthy(value, now):
            continue
        if chosen is None:
            chosen = (source, value)
            continue
        chosen_day, day = day_of(chosen[1]), day_of(value)
        if _open(chosen, modified) and has_time(chosen[1]):
            # The winner is the modification date, and the URL, fixed when the article was
            # first published, names a day well before it.
            if source in EARLIER_DAY_SOURCES and day and chosen_day and day <= chosen_day - GAP:
                chosen = (source, value)
        elif source in PRECISE_SOURCES and has_time(value) and day == chosen_day:
            chosen = (chosen[0], value)  # same day, now with its time
    if chosen is None:
        return None, None
    return chosen[1], chosen[0]


# The source that may overrule a structured date equal to the modification date (by at
# least GAP: a draft created the evening before is not an earlier publication), and the
# sources that may give a structured day its time.
EARLIER_DAY_SOURCES = ("url",)
GAP = timedelta(days=2)
PRECISE_SOURCES = ("json-ld", "meta", "dateline")


def _open(chosen: tuple[str, str], modified: str | None) -> bool:
    """Could a later source still change this answer?"""
    source, value = chosen
    if not has_time(value):
        return True
    return source in ("json-ld", "meta") and modified is not None and value == modified


# -- dates written for people ------------------------------------------------------------

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january janvier januar enero gennaio janeiro januari ocak januari январь января "
        "jan janv jän ene gen sty ock",
        "february février fevrier februar febrero febbraio fevereiro februari şubat subat "
        "februari февраль февраля feb févr fev fév febr şub",
        "march mars märz maerz marzo março marco maart mart mars март марта mar mär",
        "april avril abril aprile nisan april апрель апреля apr avr abr nis",
        "may mai mayo maggio maio mei mayıs mayis maj май мая mag",
        "june juin juni junio giugno junho haziran juni июнь июня jun juin giu haz",
        "july juillet juli julio luglio julho temmuz juli июль июля jul juil lug tem",
        "august août aout august agosto augustus ağustos agustus augusti август августа "
        "aug ago ağu",
        "september septembre september septiembre settembre setembro eylül eylul september "
        "сентябрь сентября sep sept set eyl",
        "october octobre oktober octubre ottobre outubro ekim oktober октябрь октября "
        "oct okt ott out eki",
        "november novembre november noviembre novembre novembro kasım kasim november "
        "ноябрь ноября nov kas",
        "december décembre decembre dezember diciembre dicembre dezembro aralık aralik "
        "december декабрь декабря dec déc dez dic ara",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS.setdefault(_name, _number)

_MONTH = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_TIME = r"(?P<hour>[01]?\d|2[0-3])\s*[:h.]\s*(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d))?"
_DATE_PATTERNS = [
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)(?!\d)"),
    re.compile(
        r"(?<![\d.])(?P<day>\d{1,2})[./](?P<month>\d{1,2})[./](?P<year>(?:19|20)\d{2})(?!\d)"
    ),
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d{2})[./](?P<month>[01]?\d)[./](?P<day>[0-3]?\d)(?!\d)"),
    re.compile(
        rf"(?<!\d)(?P<day>[0-3]?\d)(?:er|st|nd|rd|th)?\.?\s+(?:de\s+)?(?P<mname>{_MONTH})\.?,?"
        rf"\s+(?:de\s+)?(?P<year>(?:19|20)\d{{2}})(?!\d)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<![\w])(?P<mname>{_MONTH})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?,?\s+"
        rf"(?P<year>(?:19|20)\d{{2}})(?!\d)",
        re.IGNORECASE,
    ),
]
_TIME_RE = re.compile(rf"(?<![\d:.])(?:{_TIME})(?![\d:])")
_OFFSET_RE = re.compile(r"\b(?:UTC|GMT)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?\b")
_ZULU_RE = re.compile(r"\b(?:UTC|GMT)\b(?!\s*[+-]\s*\d)")

# Words that introduce a modification date; the text after them is not the publication.
UPDATE_WORDS = re.compile(
    r"\b(?:mis à jour|mise à jour|modifié|actualisé|updated?|last modified|aktualisiert|"
    r"geändert|actualizad[oa]|aggiornat[oa]|atualizad[oa]|güncelleme|güncellendi|"
    r"uppdaterad|bijgewerkt|обновлено|изменено)\b|(?<!\w)güncelleme",
    re.IGNORECASE,
)


def parse_date_text(text: str, month_first: bool = False) -> str | None:
    """A date written for people ("28.04.2023", "30 avril 2015 à 07:19", "April 24, 2019").

    Returns ISO 8601: a day, or a day and time (with the offset when the text names
    UTC/GMT). Numeric dates are read day first ("05.04.2025" is 5 April) unless
    `month_first` (American pages) and the numbers allow it.
    """
    if not text or len(text) > 300:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        groups = match.groupdict()
        year = int(groups["year"])
        if groups.get("mname"):
            month = MONTHS.get(groups["mname"].lower().rstrip("."), 0)
            day = int(groups["day"])
        else:
            day, month = int(groups["day"]), int(groups["month"])
            separator_slash = "/" in match.group(0)
            if month > 12 or (month_first and separator_slash and day <= 12):
                day, month = month, day
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        rest = text[: match.start()] + " " + text[match.end() :]
        time_match = _TIME_RE.search(rest)
        if not time_match:
            return found.isoformat()
        moment = datetime(
            found.year,
            found.month,
            found.day,
            int(time_match["hour"]),
            int(time_match["minute"]),
            int(time_match["second"] or 0),
        )
        offset = _OFFSET_RE.search(rest)
        if offset:
            minutes = int(offset["h"]) * 60 + int(offset["m"] or 0)
            sign = 1 if offset["sign"] == "+" else -1
            moment = moment.replace(tzinfo=timezone(timedelta(minutes=sign * minutes)))
        elif _ZULU_RE.search(rest):
            moment = moment.replace(tzinfo=UTC)
        return moment.isoformat()
    return None


def before_update_words(text: str) -> str:
    """The part of a dateline before "Updated …" (or "" when it starts with it)."""
    match = UPDATE_WORDS.search(text)
    return text[: match.start()] if match else text


_URL_DATES = [
    re.compile(r"/(?P<year>(?:19|20)\d{2})/(?P<month>[01]?\d)/(?P<day>[0-3]?\d)(?:/|$|[-_.])"),
    re.compile(r"/(?P<year>(?:19|20)\d{2})-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?:/|$|[-_.])"),
    re.compile(r"/(?P<year>(?:19|20)\d{2})/(?P<month>[01]\d)(?P<day>[0-3]\d)(?:/|$)"),
    re.compile(r"(?:/|[-_])(?P<year>(?:19|20)\d{2})(?P<month>[01]\d)(?P<day>[0-3]\d)(?:/|[-_.]|$)"),
]


def url_date(url: str | None) -> str | None:
    """A full day written in the URL's path, e.g. /2024/05/14/ or /20240514-slug."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]+", "", url.split("?")[0].split("#")[0], flags=re.I)
    for pattern in _URL_DATES:
        for match in pattern.finditer(path):
            try:
                return date(int(match["year"]), int(match["month"]), int(match["day"])).isoformat()
            except ValueError:
                continue
    return None


# -- the visible dateline --------------------------------------------------------------------

DATE_CLASS = re.compile(
    r"date|time|publi|posted|dateline|tarih|datum|fecha|data|zeit|meta|info", re.IGNORECASE
)
UPDATE_CLASS = re.compile(r"updat|modif|aktualis|actualiz|aggiorn|güncel|uppdater", re.IGNORECASE)
PUBLISHED_LABEL = re.compile(
    r"^\W*(?:published|posted|publié(?:e)?(?: le)?|date|datum|veröffentlicht(?: am)?|"
    r"publicado(?: el)?|pubblicato(?: il)?|publicerad|yayın(?:lanma)?(?: tarihi)?|tarih|"
    r"опубликовано|fecha)\b\s*:?",
    re.IGNORECASE,
)


def _foreign(element: lxml.html.HtmlElement) -> bool:
    """Inside page chrome or another article's teaser: a date there is not this article's."""
    for node in element.iterancestors():
        tag = node.tag
        if tag in ("a", "nav", "aside", "footer", "figcaption", "figure"):
            return True
        classes = node.get("class") or ""
        if "related" in classes or "teaser" in classes or "recommend" in classes:
            return True
    return False


def _element_date(element: lxml.html.HtmlElement, month_first: bool) -> str | None:
    text = " ".join(element.text_content().split())
    if len(text) > 120:
        return None
    return parse_date_text(before_update_words(text), month_first=month_first)


def visible_dateline(
    tree: lxml.html.HtmlElement,
    after: lxml.html.HtmlElement | None = None,
    month_first: bool = False,
) -> str | None:
    """The publication date printed near the headline, or None.

    In order: a `<time>` element, an `itemprop="datePublished"` element, an element whose
    class or id says date, a "Published: …"-style label — each after the <h1> when the
    page has one (a date above it is usually the site header's "today"), never inside a
    link, a caption, a sidebar or the footer, never labelled as an update.
    """
    body = tree.find("body")
    if body is None:
        return None
    # The elements before the headline, found by walking the page only as far as it
    # (a page of 1,500 elements: walking it all cost more than the rest of this function).
    before: set[lxml.html.HtmlElement] = set()
    if after is not None:
        for element in body.iter():
            if element is after:
                break
            before.add(element)
        else:
            before.clear()  # the headline is not in the body: nothing is before it

    def usable(element: lxml.html.HtmlElement) -> bool:
        if element in before or _foreign(element):
            return False
        marks = f"{element.get('class') or ''} {element.get('itemprop') or ''}"
        return not UPDATE_CLASS.search(marks)

    for element in body.iter("time"):
        if not usable(element):
            continue
        text = " ".join(element.text_content().split())
        if UPDATE_WORDS.match(text):
            continue
        value = normalise_date(element.get("datetime")) or _element_date(element, month_first)
        if value:
            return value
    for element in body.xpath(".//*[@itemprop='datePublished']"):
        if usable(element):
            value = normalise_date(element.get("content") or element.get("datetime"))
            value = value or _element_date(element, month_first)
            if value:
                return value
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "time"):
            continue
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if marks.strip() and DATE_CLASS.search(marks) and usable(element):
            value = _element_date(element, month_first)
            if value:
                return value
    for element in body.iter("li", "p", "span", "div", "dd", "small", "strong"):
        text = " ".join(element.text_content().split())
        if len(text) <= 60 and PUBLISHED_LABEL.match(text) and usable(element):
            value = parse_date_text(before_update_words(text), month_first=month_first)
            if value:
                return value
    return None
