"""What a news page says about itself: JSON-LD, Open Graph, `article:*` meta, headline, byline.

News sites fill these for search engines and social networks, so they are the most
reliable description of an article; trafilatura's own guesses come after them. Titles
lose the site name the page itself declares (og:site_name, JSON-LD publisher or WebSite,
application-name, Twitter handle, the URL's host) — never a hand-made list of outlets.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from archive.credits import add_credits, agency_name, split_byline

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "askpublicnewsarticle",
    "satiricalarticle",
    "scholarlyarticle",
    "blogposting",
    "liveblogposting",
    "socialmediaposting",
    "report",
}
# Other creative works whose datePublished is the page's (a fact-check, the web page).
DATED_TYPES = {"claimreview", "webpage", "itempage", "creativework", "mediaobject"}
SITE_TYPES = {"website", "organization", "newsmediaorganization", "corporation"}

_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def text_of(value: object) -> str | None:
    """A JSON-LD or meta string, entities decoded (JSON-LD often carries "&#039;")."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    if _ENTITY.search(value):
        value = html.unescape(value)
    value = " ".join(value.split())
    return value or None


@dataclass
class PageMeta:
    """What the page declares about itself in its <head> and headline."""

    types: set[str] = field(default_factory=set)
    og: dict[str, str] = field(default_factory=dict)
    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[dict] = field(default_factory=list)
    canonical: str | None = None
    lang: str | None = None
    h1: str | None = None
    h1_element: lxml.html.HtmlElement | None = None
    title_tag: str | None = None

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, []):
                if value.strip():
                    return value.strip()
        return None

    def all(self, *names: str) -> list[str]:
        return [v.strip() for name in names for v in self.meta.get(name, []) if v.strip()]

    @property
    def declares_article(self) -> bool:
        return bool(self.types & ARTICLE_TYPES)

    def article_objects(self) -> list[dict]:
        return [obj for obj in self.jsonld if jsonld_types(obj) & ARTICLE_TYPES]

    def dated_objects(self) -> list[dict]:
        return [obj for obj in self.jsonld if jsonld_types(obj) & DATED_TYPES]

    def declared_language(self) -> str | None:
        for value in (
            self.lang,
            self.og.get("locale"),
            self.first("content-language", "dc.language", "language"),
            *(text_of(o.get("inLanguage")) for o in self.article_objects()),
        ):
            if value and value.strip():
                return value.strip()
        return None


def jsonld_types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _walk_jsonld(data: object, depth: int = 0) -> list[dict]:
    found: list[dict] = []
    if depth > 8:  # real graphs are shallow; a hostile page's need not be
        return found
    if isinstance(data, list):
        for item in data:
            found.extend(_walk_jsonld(item, depth + 1))
    elif isinstance(data, dict):
        found.append(data)
        if "@graph" in data:
            found.extend(_walk_jsonld(data["@graph"], depth + 1))
        main = data.get("mainEntity")
        if isinstance(main, dict):
            found.extend(_walk_jsonld(main, depth + 1))
    return found


def _load_jsonld(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    # Raw newlines and tabs inside strings are the commonest breakage; JSON forbids them.
    try:
        return json.loads(re.sub(r"[\r\n\t]+", " ", text))
    except (ValueError, RecursionError):
        return None  # broken JSON-LD is common; the page's other signals still count


def read_page_meta(tree: lxml.html.HtmlElement) -> PageMeta:
    meta = PageMeta()
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if not key and el.get("http-equiv"):
            key = el.get("http-equiv").strip().lower()
        content = el.get("content")
        if key and content is not None:
            meta.meta.setdefault(key, []).append(content)
            if key.startswith("og:"):
                meta.og.setdefault(key[3:], content.strip())
    og_type = meta.og.get("type", "").lower()
    if og_type:
        meta.types.add(og_type)
    for script in tree.iter("script"):
        if (script.get("type") or "").lower().strip() != "application/ld+json" or not script.text:
            continue
        data = _load_jsonld(script.text)
        for obj in _walk_jsonld(data):
            meta.jsonld.append(obj)
            meta.types |= jsonld_types(obj)
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            meta.canonical = link.get("href").strip()
    meta.lang = (tree.get("lang") or tree.get("xml:lang") or "").strip() or None
    for h1 in tree.iter("h1"):
        text = " ".join(h1.text_content().split())
        if text:
            meta.h1, meta.h1_element = text, h1
            break
    title = tree.find(".//title")
    if title is not None:
        meta.title_tag = " ".join(title.text_content().split()) or None
    return meta


def jsonld_names(value: object) -> list[str]:
    """Names in a JSON-LD author/publisher value (strings, Person/Organization objects)."""
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in values:
        if isinstance(item, dict):
            name = text_of(item.get("name"))
            if not name and (item.get("givenName") or item.get("familyName")):
                name = " ".join(
                    filter(None, (text_of(item.get("givenName")), text_of(item.get("familyName"))))
                )
            if name:
                names.append(name)
        elif isinstance(item, str) and text_of(item):
            names.append(text_of(item))
    return names


# -- site names and titles -------------------------------------------------------------------

TLD_LIKE = {"com", "net", "org", "info", "news", "www", "co", "gov", "edu"}


def _tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())


def host_labels(url: str | None) -> list[str]:
    """The host's distinctive labels: "www.taipeitimes.com" → ["taipeitimes"]."""
    host = (urlsplit(url or "").hostname or "").lower()
    labels = [p for p in host.split(".") if p and p != "www"]
    if len(labels) >= 2:
        labels = labels[:-1]  # the top-level domain says nothing about the site
    return [label for label in labels if label not in TLD_LIKE and len(label) >= 2]


def site_names(meta: PageMeta, url: str | None = None) -> list[str]:
    """Every name the page gives its site, most explicit first."""
    names: list[str] = []
    names += [meta.og.get("site_name") or ""]
    names += meta.all("application-name", "apple-mobile-web-app-title", "og:site_name")
    for obj in meta.article_objects():
        names += jsonld_names(obj.get("publisher"))
    for obj in meta.jsonld:
        if jsonld_types(obj) & SITE_TYPES:
            names += jsonld_names(obj)
            names += [a for a in (obj.get("alternateName"),) if isinstance(a, str)]
    handle = meta.first("twitter:site")
    if handle and handle.startswith("@"):
        names.append(handle[1:])
    names += meta.all("publisher", "dc.publisher", "dcterms.publisher")
    cleaned: list[str] = []
    for name in names:
        name = text_of(name) or ""
        if name and len(name) <= 80 and name.lower() not in {n.lower() for n in cleaned}:
            cleaned.append(name)
    return cleaned


def is_site_name(segment: str, names: Iterable[str], labels: Iterable[str] = ()) -> bool:
    """Does this title segment name the site ("NTV Haber" for "NTV", "DW" for "DW.COM")?"""
    seg = _tokens(segment)
    if not seg or len(seg) > 6:
        return False
    joined = "".join(seg)
    for name in names:
        tokens = _tokens(name)
        if not tokens:
            continue
        if joined == "".join(tokens):
            return True
        if tokens[: len(seg)] == seg and all(
            t in TLD_LIKE or len(t) <= 3 for t in tokens[len(seg) :]
        ):
            return True  # "DW" for "DW.COM", "ORF" for "ORF.at"
        if seg[: len(tokens)] == tokens and len(seg) - len(tokens) <= 1:
            return True  # "NTV Haber" for "NTV"
    # "Taipei Times" on taipeitimes.com, "derStandard.at" on derstandard.at
    return any(joined == label or (seg[0] == label and len(seg) <= 2) for label in labels)


# Separators sites put between headline, section and site name. A colon is not one:
# headlines use it ("Gaz naturel : la production…").
TITLE_SEPARATOR = re.compile(r"\s+[-–—|·•»›/]\s+|\s*[|｜ㅣ]\s*|\s*--\s*|\s+::\s+")


def _segments(title: str) -> list[tuple[int, int]]:
    """(start, end) spans of the segments between separators."""
    spans, start = [], 0
    for match in TITLE_SEPARATOR.finditer(title):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(title)))
    return [(a, b) for a, b in spans if title[a:b].strip()]


def strip_site_name(
    title: str, names: list[str], labels: list[str] = (), others: Iterable[str] = ()
) -> str:
    """The title without a leading or trailing site name (and what trails it).

    "X | DW | 28.04.2023" → "X"; "Tageblatt.lu | Section | X" → "Section | X". When a
    site name was cut and sections remain, another candidate title equal to part of what
    is left (usually the <h1>) settles which part is the headline.
    """
    spans = _segments(title)
    if len(spans) < 2:
        return title
    keep = list(spans)
    for index in range(len(keep) - 1, 0, -1):
        if len(keep) - index > 3:
            break  # a site name comes last, or before a date or a section at most
        if is_site_name(title[slice(*keep[index])], names, labels):
            keep = keep[:index]
            break
    if len(keep) >= 2 and is_site_name(title[slice(*keep[0])], names, labels):
        keep = keep[1:]
    if keep == spans:
        return title
    if len(keep) >= 2:
        wanted = {_key(o) for o in others if o}
        for size in range(len(keep) - 1, 0, -1):
            for first in range(0, len(keep) - size + 1):
                part = title[keep[first][0] : keep[first + size - 1][1]]
                if _key(part) in wanted:
                    return part.strip()
    return title[keep[0][0] : keep[-1][1]].strip()


def _key(text: str) -> str:
    return "".join(_tokens(text))


def choose_title(meta: PageMeta, url: str | None, hint_title: str | None = None) -> str | None:
    """The headline: JSON-LD headline, og:title, twitter:title, <h1>, <title>, feed title."""
    headline = next(
        (text_of(o.get("headline")) for o in meta.article_objects() if text_of(o.get("headline"))),
        None,
    )
    candidates = [
        c
        for c in (
            headline,
            text_of(meta.og.get("title")),
            text_of(meta.first("twitter:title")),
            meta.h1,
            meta.title_tag,
            text_of(hint_title),
        )
        if c
    ]
    if not candidates:
        return None
    names, labels = site_names(meta, url), host_labels(url)
    title = strip_site_name(candidates[0], names, labels, candidates[1:])
    if headline and candidates[0] == headline and len(title) >= 60 and title.endswith(("…", "...")):
        # JSON-LD headlines are cut at 110 characters; another source may hold all of it.
        stem = title.rstrip("….").strip().casefold()
        for other in candidates[1:]:
            other = strip_site_name(other, names, labels)
            rest = other[len(stem) :]
            if other.casefold().startswith(stem) and re.match(r"\w", rest):
                return other
    return title


def clean_title(candidates: list[str | None], sitename: str | None) -> str | None:
    """The first candidate without the site name it carries (kept for callers and tests)."""
    for title in candidates:
        if title and title.strip():
            title = " ".join(title.split())
            return strip_site_name(title, [sitename] if sitename else [], [], candidates) or None
    return None


# -- authors ---------------------------------------------------------------------------------

BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:written|reporting|reported|text|texte|words|story)\s+by|by|par|von|de|por|di|"
    r"av|door|yazan|autor(?:in)?(?:/autor)?|auteur|author|yazar|redakteur|redaktor)\b\s*:?\s*",
    re.IGNORECASE,
)
# Roles printed after a name: "Martí Abad (Enviado especial)", "Jane Doe, Staff Writer".
ROLE_SUFFIX = re.compile(
    r"\s*[,/–—-]?\s*\b(?:(?:senior|chief|staff|special|foreign|political|economics?)\s+)*"
    r"(?:journalist[ea]?|journaliste|reporter|correspondent|correspondant[e]?|"
    r"envoyée? spéciale?|editor|rédact(?:eur|rice)|redakteur(?:in)?|writers?|"
    r"muhabiri?|staff(?:\s+writers?)?|photographer)s?\s*$",
    re.IGNORECASE,
)
NOT_PEOPLE = re.compile(
    r"^(?:la |the |die |de )?(?:rédaction|redaction|redaktion|editorial(?: team| board)?|"
    r"newsroom|staff|admin|administrator|webmaster|haber merkezi|desk|agencies|agences|"
    r"agenturen|agencias|unknown|anonymous|guest|invité|red|online|web|(?:news )?wires?|"
    r"wire services?|dépêches|agences de presse|news agencies)\.?$",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(
    r"\s*(?:;|,|\||·|•|\s/\s|&|\bet\b|\band\b|\bund\b|\bve\b|\by\b|\be\b|\bi\b)\s*",
    re.IGNORECASE,
)


def clean_authors(
    names: list[str],
    sitename: str | list[str] | None = None,
    labels: Iterable[str] = (),
) -> list[str]:
    """A clean list of people: no "Par", no e-mail, no roles, no site name, no duplicates."""
    sites = [sitename] if isinstance(sitename, str) else list(sitename or [])
    labels = list(labels)
    cleaned: list[str] = []
    for raw in names:
        raw = text_of(raw) or ""
        raw = re.sub(r"\S+@\S+|https?://\S+", " ", raw)
        raw = re.sub(r"\([^)]*\)", " ", raw)  # roles and places in brackets
        for part in _NAME_SPLIT.split(raw):
            part = BYLINE_PREFIX.sub("", part)
            part = ROLE_SUFFIX.sub("", part).strip(" .-–—:|")
            if not _looks_like_a_name(part):
                continue
            if (sites or labels) and is_site_name(part, sites, labels):
                continue
            if part.lower() not in {a.lower() for a in cleaned}:
                cleaned.append(part)
    return cleaned


def _looks_like_a_name(part: str) -> bool:
    if not part or len(part) > 60 or len(part.split()) > 5:
        return False
    if re.search(r"\d|[@/\\{}<>=]", part) or NOT_PEOPLE.match(part):
        return False
    return any(ch.isalpha() for ch in part)


_BYLINE_CLASS = re.compile(
    r"byline|author|autor|auteur|yazar|writer|reporter|signature|firma|credit", re.IGNORECASE
)
_NOT_BYLINE_CLASS = re.compile(
    r"bio|box|avatar|image|img|photo|foto|desc|about|more|list|other|related|social|follow|"
    r"comment|widget|card|teaser|caption|copyright",
    re.IGNORECASE,
)
_BYLINE_TEST = (
    "contains(concat(' ', @itemprop, ' '), ' author ') or @rel='author'"
    " or contains(@class, 'yline') or contains(@class, 'uthor') or contains(@class, 'utor')"
    " or contains(@class, 'uteur') or contains(@class, 'yazar') or contains(@class, 'riter')"
    " or contains(@class, 'eporter') or contains(@class, 'ignature') or contains(@id, 'uthor')"
    " or contains(@id, 'yline')"
)
_LABEL_TEST = (
    "(self::li or self::p or self::span or self::div or self::dd or self::small)"
    " and string-length(.) < 200"
)


def _after(tree: lxml.html.HtmlElement, after: lxml.html.HtmlElement | None, test: str) -> list:
    """Elements passing an XPath test, after `after` in page order when given."""
    if after is not None:
        return after.xpath(f"following::*[{test}]")
    return tree.xpath(f"//body//*[{test}]")


def byline_texts(tree: lxml.html.HtmlElement, after: lxml.html.HtmlElement | None) -> list[str]:
    """Texts of the first byline on the page (after the headline when there is one)."""
    for element in _after(tree, after, _BYLINE_TEST):
        classes = f"{element.get('class') or ''} {element.get('id') or ''}"
        explicit = "author" in (element.get("itemprop") or "").split() or (
            element.get("rel") == "author"
        )
        if not explicit and (
            not _BYLINE_CLASS.search(classes) or _NOT_BYLINE_CLASS.search(classes)
        ):
            continue
        if element.tag in ("meta", "link", "script", "style", "img"):
            continue
        text = " ".join(element.text_content().split())
        if 2 <= len(text) <= 120:
            return [text]
    # No byline markup: a short element that starts with an author label ("Autor: …").
    for element in _after(tree, after, _LABEL_TEST):
        text = " ".join(element.text_content().split())
        if len(text) <= 80 and AUTHOR_LABEL.match(text) and not _in_link_or_chrome(element):
            return [AUTHOR_LABEL.sub("", text)]
    return []


AUTHOR_LABEL = re.compile(
    r"^(?:autor(?:in)?(?:/autor(?:in)?)?|author|auteur|yazar|muhabir|reporter|text|texte)"
    r"\s*:?\s+(?=\w)",
    re.IGNORECASE,
)


def find_authors(
    meta: PageMeta, tree: lxml.html.HtmlElement, url: str | None = None
) -> tuple[list[str], list[str]]:
    """(people, agencies) who signed the article, from JSON-LD, meta tags, then the byline."""
    names, labels = site_names(meta, url), host_labels(url)
    agencies: list[str] = []
    jsonld: list[str] = []
    for obj in meta.article_objects():
        jsonld += jsonld_names(obj.get("author") or obj.get("creator"))
        for key in ("sourceOrganization", "provider", "contributor"):
            add_credits(agencies, filter(None, map(agency_name, jsonld_names(obj.get(key)))))
    tags = [
        v
        for v in meta.all(
            "author",
            "article:author",
            "dc.creator",
            "byl",
            "parsely-author",
            "sailthru.author",
            "articleauthor",
        )
        if not v.startswith(("http://", "https://", "@"))
    ]
    # The visible byline is looked for only when the declarations name nobody.
    for source in (lambda: jsonld, lambda: tags, lambda: byline_texts(tree, meta.h1_element)):
        raw_names = source()
        if not raw_names:
            continue
        split = [part for raw in raw_names for part in split_names(raw)]
        people, found = split_byline(split)
        add_credits(agencies, found)
        people = clean_authors(people, names, labels)
        if people:
            return people, agencies
    return [], agencies


def split_names(raw: str) -> list[str]:
    raw = BYLINE_PREFIX.sub("", text_of(raw) or "")
    return [p for p in _NAME_SPLIT.split(raw) if p and p.strip()]


# -- the lead (chapô) ------------------------------------------------------------------------

_LEAD_TAGS = "p|h2|h3|h4|div|span|strong|b|em|section|header|summary|ul"


def find_lead(
    tree: lxml.html.HtmlElement, meta: PageMeta, after: lxml.html.HtmlElement | None = None
) -> str | None:
    """The visible lead paragraph whose text the page also gives as its description.

    trafilatura often drops the lead (it sits in the header, styled apart); the
    description meta tags say which element it is without guessing from class names.
    """
    descriptions = [
        text_of(meta.og.get("description")),
        text_of(meta.first("description", "twitter:description")),
        *(text_of(o.get("description")) for o in meta.article_objects()),
    ]
    seen: set[str] = set()
    for description in descriptions:
        if not description or len(description) < 40:
            continue
        probe = description.rstrip("….").strip()[:60]
        if probe in seen or ('"' in probe and "'" in probe):
            continue
        seen.add(probe)
        quote = "'" if '"' in probe else '"'
        expression = (
            f"//body//*[{' or '.join(f'self::{t}' for t in _LEAD_TAGS.split('|'))}]"
            f"[starts-with(normalize-space(.), {quote}{probe}{quote})]"
        )
        try:
            found = tree.xpath(expression)
        except etree.XPathError:
            continue
        found = [el for el in found if not _in_link_or_chrome(el)]
        if not found:
            continue
        # The smallest element holding all of the description (a lead may span several
        # paragraphs), else the smallest that starts with it.
        whole = len(_key(description.rstrip("….")))
        covering = [el for el in found if len(_key(el.text_content())) >= 0.9 * whole]
        element = min(covering or found, key=lambda el: len(el.text_content()))
        text = " ".join(element.text_content().split())
        if 40 <= len(text) <= 1500:
            return text
    return None


def _in_link_or_chrome(element: lxml.html.HtmlElement) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in ("a", "nav", "footer", "aside", "noscript", "template", "button"):
            return True
    return False


# -- sections and tags -----------------------------------------------------------------------


def categories_and_tags(meta: PageMeta) -> tuple[list[str], list[str]]:
    categories: list[str] = meta.all("article:section")
    tags: list[str] = meta.all("article:tag")
    for obj in meta.article_objects():
        section = obj.get("articleSection")
        categories += [s for s in (section if isinstance(section, list) else [section]) if s]
        keywords = obj.get("keywords")
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        tags += [k for k in (keywords or []) if isinstance(k, str)]
    if not tags:
        tags = [k for v in meta.all("news_keywords", "keywords") for k in v.split(",")]
    return _unique(categories), _unique(tags)


def _unique(values: Iterable[object]) -> list[str]:
    out: list[str] = []
    for value in values:
        text = text_of(value) if isinstance(value, str) else None
        if text and len(text) <= 100 and text.lower() not in {v.lower() for v in out}:
            out.append(text)
    return out
