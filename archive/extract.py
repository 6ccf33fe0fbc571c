"""Raw HTML → article record: clean text and metadata.

trafilatura finds the main text; this module decides what it is given (parts of
the page known to be boilerplate are pruned first), reads the metadata a news
page declares about itself (JSON-LD, Open Graph, `article:*` meta) before
falling back on trafilatura's guesses, and cleans the lines outlets put around
the body (comment counters, share lines, agency credits, author boxes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
import py3langid
import trafilatura
from lxml import etree
from w3lib.encoding import html_to_unicode

from archive.credits import split_credit_lines
from archive.dates import normalise_date

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "blogposting",
    "liveblogposting",
    "report",
}

# Parts of a page that are never the article body, whatever the theme calls
# them otherwise; pruned before trafilatura so it cannot mistake them for text.
PRUNE_XPATH = [
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' sharedaddy ')]",
    "//*[contains(@class, 'share-line') or contains(@class, 'social-share')]",
    "//*[contains(@class, 'author-box') or contains(@class, 'author-bio')"
    " or contains(@class, 'about-author')]",
    "//*[contains(@class, 'related-posts') or contains(@class, 'jp-relatedposts')]",
    "//*[@id='comments' or @id='respond' or contains(@class, 'comment-respond')]",
    "//*[contains(@class, 'comments-link')]",
]

# A line that is only a number (a theme's comment counter under the headline).
COUNTER_LINE = re.compile(r"^\s*\d{1,5}\s*$")
SHARE_LINE = re.compile(
    r"^\s*(partager|partagez|partage|share|teilen|compartir|paylaş)\b[^\n]{0,40}?"
    r"([?:!.]\s*)?(https?://\S+)?\s*$",
    re.IGNORECASE,
)
AUTHOR_BOX_HEADING = re.compile(
    r"^\s*(à propos de l['’]auteur|a propos de l['’]auteur|about the author|"
    r"l['’]auteur|sur l['’]auteur)\s*:?\s*$",
    re.IGNORECASE,
)
BYLINE_PREFIX = re.compile(r"^\s*(par|by|von|de|por)\s+", re.IGNORECASE)

MIN_WORDS_DECLARED = 25  # a page that says it is an article may be a short brief
MIN_WORDS_UNDECLARED = 150  # otherwise ask for a real body before calling it one


@dataclass
class Extracted:
    is_article: bool
    reason: str | None = None  # why it is not an article
    title: str | None = None
    text: str = ""
    published: str | None = None
    published_source: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    description: str | None = None
    sitename: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    language: str | None = None
    language_source: str | None = None  # "page" or "detected"
    canonical: str | None = None
    page_type: str | None = None
    word_count: int = 0
    encoding: str | None = None


def decode_html(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a page as a browser would: BOM, then HTTP charset, then <meta>, then guess."""
    encoding, text = html_to_unicode(content_type or None, body)
    return text, encoding


@dataclass
class PageMeta:
    """What the page declares about itself in its <head>."""

    types: set[str] = field(default_factory=set)
    og: dict[str, str] = field(default_factory=dict)
    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[dict] = field(default_factory=list)
    canonical: str | None = None
    lang: str | None = None
    h1: str | None = None
    title_tag: str | None = None

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, []):
                if value.strip():
                    return value.strip()
        return None

    @property
    def declares_article(self) -> bool:
        return bool(self.types & ARTICLE_TYPES)

    def article_objects(self) -> list[dict]:
        return [obj for obj in self.jsonld if _jsonld_types(obj) & ARTICLE_TYPES]


def _jsonld_types(obj: dict) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _walk_jsonld(data) -> list[dict]:
    found: list[dict] = []
    if isinstance(data, list):
        for item in data:
            found.extend(_walk_jsonld(item))
    elif isinstance(data, dict):
        found.append(data)
        if "@graph" in data:
            found.extend(_walk_jsonld(data["@graph"]))
    return found


def read_page_meta(tree: lxml.html.HtmlElement) -> PageMeta:
    meta = PageMeta()
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
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
        try:
            data = json.loads(script.text)
        except ValueError:
            continue  # broken JSON-LD is common; the page's other signals still count
        for obj in _walk_jsonld(data):
            meta.jsonld.append(obj)
            meta.types |= _jsonld_types(obj)
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            meta.canonical = link.get("href").strip()
    meta.lang = (tree.get("lang") or tree.get("xml:lang") or "").strip() or None
    h1 = tree.find(".//h1")
    if h1 is not None:
        meta.h1 = " ".join(h1.text_content().split()) or None
    title = tree.find(".//title")
    if title is not None:
        meta.title_tag = " ".join(title.text_content().split()) or None
    return meta


def _jsonld_names(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in values:
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, str):
                names.append(name)
        elif isinstance(item, str):
            names.append(item)
    return names


def clean_authors(names: list[str], sitename: str | None) -> list[str]:
    """A clean list of people: no "Par", no e-mail, no site name, no duplicates."""
    cleaned: list[str] = []
    for raw in names:
        for part in re.split(r"\s*(?:;|,|\bet\b|\band\b|&|\|)\s*", raw or ""):
            part = BYLINE_PREFIX.sub("", part).strip(" .-–—:")
            part = re.sub(r"\S+@\S+", "", part).strip()
            if not part or len(part) > 80 or re.search(r"\d", part):
                continue
            if sitename and part.lower() == sitename.lower():
                continue
            if part.lower() not in {a.lower() for a in cleaned}:
                cleaned.append(part)
    return cleaned


SEPARATORS = r"\s+[-–—|:·•»]\s+"


def clean_title(candidates: list[str | None], sitename: str | None) -> str | None:
    """The headline without the site name the <title> or og:title carries."""
    for title in candidates:
        if not title or not title.strip():
            continue
        title = " ".join(title.split())
        if sitename:
            site = re.escape(sitename.strip())
            title = re.sub(rf"{SEPARATORS}{site}\s*$", "", title, flags=re.IGNORECASE)
            title = re.sub(rf"^\s*{site}{SEPARATORS}", "", title, flags=re.IGNORECASE)
        return title.strip() or None
    return None


def clean_lines(text: str) -> tuple[str, list[str]]:
    """Drop the boilerplate lines outlets print around the body; return text and credits."""
    lines = [line.strip() for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line:
            continue
        if AUTHOR_BOX_HEADING.match(line) and len(kept) >= 2:
            break  # an author box closes the article: what follows is the bio
        if COUNTER_LINE.match(line) or SHARE_LINE.match(line):
            continue
        kept.append(line)
    kept, credits = split_credit_lines(kept)
    return "\n".join(kept), credits


def detect_language(text: str) -> str | None:
    if len(text.split()) < 5:
        return None
    lang, _score = py3langid.classify(text[:5000])
    return lang


def _published(meta: PageMeta, articles: list[dict]) -> tuple[str | None, str | None]:
    """Publication date by order of evidence: JSON-LD, then meta tags, then <time>."""
    for obj in articles:
        value = normalise_date(obj.get("datePublished"))
        if value:
            return value, "json-ld"
    for name in (
        "article:published_time",
        "datepublished",
        "og:published_time",
        "publish-date",
        "pubdate",
        "dc.date.issued",
        "dc.date",
        "date",
    ):
        value = normalise_date(meta.first(name))
        if value:
            return value, "meta"
    return None, None


def _modified(meta: PageMeta, articles: list[dict]) -> str | None:
    for obj in articles:
        value = normalise_date(obj.get("dateModified"))
        if value:
            return value
    return normalise_date(meta.first("article:modified_time", "og:updated_time", "datemodified"))


def extract(
    body: bytes | str,
    url: str,
    content_type: str = "",
    hint_title: str | None = None,
    hint_published: str | None = None,
) -> Extracted:
    """Extract one page. Never raises on bad HTML: a broken page is not an article."""
    if isinstance(body, bytes):
        html, encoding = decode_html(body, content_type)
    else:
        html, encoding = body, "utf-8"
    if not html.strip():
        return Extracted(is_article=False, reason="empty page", encoding=encoding)
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        return Extracted(is_article=False, reason=f"unparsable HTML: {exc}", encoding=encoding)

    meta = read_page_meta(tree)
    articles = meta.article_objects()
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            prune_xpath=PRUNE_XPATH,
        )
    except Exception as exc:  # trafilatura raises a variety of errors on odd markup
        return Extracted(is_article=False, reason=f"extraction failed: {exc}", encoding=encoding)
    raw_text = (doc.text if doc else "") or ""
    text, credits = clean_lines(raw_text)
    words = len(text.split())

    publisher = next(
        (_jsonld_names(o.get("publisher")) for o in articles if o.get("publisher")), []
    )
    sitename = (
        meta.og.get("site_name")
        or (publisher[0] if publisher else None)
        or (doc.sitename if doc else None)
    )
    headline = next(
        (o.get("headline") for o in articles if isinstance(o.get("headline"), str)), None
    )
    title = clean_title(
        [
            headline,
            meta.og.get("title"),
            meta.h1,
            doc.title if doc else None,
            hint_title,
            meta.title_tag,
        ],
        sitename,
    )
    published, published_source = _published(meta, articles)
    if not published and doc and doc.date:
        published, published_source = normalise_date(doc.date), "htmldate"
    if not published and hint_published:
        published, published_source = normalise_date(hint_published), "feed"

    authors = clean_authors(
        [n for o in articles for n in _jsonld_names(o.get("author"))]
        or [meta.first("author", "article:author") or ""],
        sitename,
    )
    if not authors and doc and doc.author:
        authors = clean_authors([doc.author], sitename)

    declared_lang = (meta.lang or meta.og.get("locale") or "").replace("_", "-").split("-")[0]
    language, language_source = (declared_lang.lower(), "page") if declared_lang else (None, None)
    if not language:
        language, language_source = detect_language(text), "detected"

    result = Extracted(
        is_article=True,
        title=title,
        text=text,
        published=published,
        published_source=published_source,
        modified=_modified(meta, articles),
        authors=authors,
        credits=credits,
        description=meta.og.get("description") or (doc.description if doc else None),
        sitename=sitename,
        categories=list(doc.categories or []) if doc else [],
        tags=list(doc.tags or []) if doc else [],
        image=meta.og.get("image") or (doc.image if doc else None),
        language=language,
        language_source=language_source if language else None,
        canonical=meta.canonical,
        page_type=",".join(sorted(meta.types)) or None,
        word_count=words,
        encoding=encoding,
    )
    result.is_article, result.reason = judge_article(meta, words, tree)
    return result


def judge_article(
    meta: PageMeta, words: int, tree: lxml.html.HtmlElement
) -> tuple[bool, str | None]:
    """Is this page one article (not a listing, a static page or an empty shell)?"""
    if meta.declares_article:
        if words < MIN_WORDS_DECLARED:
            return False, f"declared an article but only {words} words of text"
        return True, None
    declared = meta.og.get("type", "").lower()
    if declared and declared not in ARTICLE_TYPES:
        return False, f"page declares og:type={declared}"
    if words < MIN_WORDS_UNDECLARED:
        return False, f"no article markup and only {words} words of text"
    headline_links = sum(1 for a in tree.iter("a") if len(" ".join(a.text_content().split())) >= 40)
    if headline_links >= 12 and words < 40 * headline_links:
        return False, f"looks like a listing ({headline_links} headline links)"
    return True, None


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
