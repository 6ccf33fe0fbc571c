"""Raw HTML → article record: clean text and metadata.

One parse of the page and one trafilatura run. Before trafilatura, everything the page
declares about itself is read from the whole page (JSON-LD, Open Graph, `article:*`
meta, headline, byline, dateline, lead — see archive.metadata and archive.dates), then
the outlet's rules (archive.rules) and the generic pruning (archive.boilerplate) remove
what is never text. trafilatura finds the body in what is left; the lines outlets print
around it are cleaned afterwards, agency credits become metadata (archive.credits), the
lead it dropped is put back, and the result is judged (archive.quality) and its language
checked (archive.language).
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
import trafilatura
from htmldate import find_date
from lxml import etree

from archive.boilerplate import (
    PRUNE_XPATH,
    clean_lines,
    clean_text,
    prune_related_blocks,
    signature_in_markup,
)
from archive.credits import add_credits, dateline_agencies, split_byline
from archive.dates import (
    choose_published,
    normalise_date,
    url_date,
    visible_dateline,
)
from archive.encoding import decode_html as _decode_html
from archive.language import choose_language
from archive.metadata import (
    ARTICLE_TYPES,
    PageMeta,
    categories_and_tags,
    choose_title,
    clean_authors,
    clean_title,
    find_authors,
    find_lead,
    host_labels,
    read_page_meta,
    site_names,
    split_names,
    text_of,
)
from archive.quality import headline_links, judge_article, quality_warnings
from archive.rules import ExtractionRules, apply_rules

__all__ = [
    "ARTICLE_TYPES",
    "PRUNE_XPATH",
    "Extracted",
    "ExtractionRules",
    "PageMeta",
    "clean_authors",
    "clean_lines",
    "clean_title",
    "decode_html",
    "extract",
    "judge_article",
    "parse_iso",
    "read_page_meta",
]

# Publication-date meta tags, most specific first.
PUBLISHED_META = (
    "article:published_time",
    "datepublished",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "date",
    "citation_publication_date",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
)

logger = logging.getLogger(__name__)

_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


@dataclass
class Extracted:
    is_article: bool
    reason: str | None = None  # why it is not an article
    title: str | None = None
    text: str = ""
    published: str | None = None
    published_source: str | None = None  # json-ld | meta | dateline | url | feed | htmldate
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
    language_confidence: float = 0.0  # the language model's probability for `language`
    language_mismatch: bool = False  # differs from the outlet's expected language
    canonical: str | None = None
    page_type: str | None = None
    word_count: int = 0
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)


def decode_html(
    body: bytes, content_type: str = "", language: str | None = None
) -> tuple[str, str]:
    """Decode a page: BOM, then valid UTF-8, then HTTP charset, then <meta>, then a default."""
    return _decode_html(body, content_type, language)


def parse_html(html: str) -> lxml.html.HtmlElement:
    """One lxml tree for the page; comments and processing instructions dropped (they
    confuse trafilatura's scoring of text blocks)."""
    # lxml refuses a str that still declares a byte encoding.
    html = _XML_DECLARATION.sub("", html, count=1)
    return lxml.html.document_fromstring(html, parser=_PARSER)


def extract(
    body: bytes | str,
    url: str,
    content_type: str = "",
    hint_title: str | None = None,
    hint_published: str | None = None,
    *,
    rules: ExtractionRules | None = None,
    expected_language: str | None = None,
) -> Extracted:
    """Extract one page. Never raises on bad HTML: a broken page is not an article.

    `rules` are the outlet's extraction rules (seeds `drop`/`body`); `expected_language`
    is the outlet's language, used to decode undeclared legacy charsets and to flag
    articles in another language.
    """
    try:
        return _extract(
            body, url, content_type, hint_title, hint_published, rules, expected_language
        )
    except Exception as exc:
        # One odd page must not stop a crawl; the traceback goes to the log for a fix.
        logger.exception("extraction failed on %s", url)
        return Extracted(is_article=False, reason=f"extraction failed: {exc!r}")


def _extract(
    body: bytes | str,
    url: str,
    content_type: str,
    hint_title: str | None,
    hint_published: str | None,
    rules: ExtractionRules | None,
    expected_language: str | None,
) -> Extracted:
    if isinstance(body, bytes):
        html, encoding = decode_html(body, content_type, expected_language)
    else:
        html, encoding = body, "utf-8"
    if not html.strip():
        return Extracted(is_article=False, reason="empty page", encoding=encoding)
    try:
        tree = parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        return Extracted(is_article=False, reason=f"unparsable HTML: {exc}", encoding=encoding)
    if tree is None or tree.find("body") is None:
        return Extracted(is_article=False, reason="empty page", encoding=encoding)

    # 1. What the page declares, read from the page as fetched.
    meta = read_page_meta(tree)
    articles = meta.article_objects()
    title = choose_title(meta, url, hint_title)
    authors, credits = find_authors(meta, tree, url)
    lead = find_lead(tree, meta)
    modified = _modified(meta)
    published, published_source = _published(meta, tree, url, hint_published, modified)
    links = None if meta.declares_article else headline_links(tree)

    # 2. What is never text goes, then trafilatura finds the body in the rest.
    warnings = apply_rules(tree, rules)
    prune_related_blocks(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            prune_xpath=PRUNE_XPATH,
        )
    except Exception as exc:  # trafilatura raises a variety of errors on odd markup
        return Extracted(is_article=False, reason=f"extraction failed: {exc}", encoding=encoding)
    raw_text = (doc.text if doc else "") or ""

    # 3. The lines around the body.
    headline = next((text_of(o.get("headline")) for o in articles if o.get("headline")), None)
    text, line_credits, signed = clean_text(
        raw_text,
        titles=[title, meta.h1, headline, text_of(meta.og.get("title")), meta.title_tag],
        authors=authors,
        confirm_signature=lambda name: signature_in_markup(tree, name),
    )
    if signed:
        # A byline printed in the text: its agencies are credits, and its people are the
        # authors when the page's markup named nobody.
        people, agencies = split_byline([p for s in signed for p in split_names(s)])
        add_credits(credits, agencies)
        if not authors:
            authors = clean_authors(people, site_names(meta, url), host_labels(url))
    text = _with_lead(text, lead, title)
    credits = add_credits(line_credits, credits)
    add_credits(credits, dateline_agencies(text))
    words = len(text.split())

    # 4. Judgement, language, warnings.
    language, language_source, confidence, mismatch = choose_language(
        meta.declared_language(), text, expected_language
    )
    is_article, reason = judge_article(meta, words, tree, links)
    if is_article:
        warnings += quality_warnings(meta, tree, text, words)
        if not published:
            warnings.append("no trustworthy publication date")
        if mismatch:
            warnings.append(f"language {language}, outlet expects {expected_language}")
    names = site_names(meta, url)
    categories, tags = categories_and_tags(meta)
    return Extracted(
        is_article=is_article,
        reason=reason,
        title=title,
        text=text,
        published=published,
        published_source=published_source,
        modified=modified,
        authors=authors,
        credits=credits,
        description=text_of(meta.og.get("description"))
        or text_of(meta.first("description"))
        or next((text_of(o.get("description")) for o in articles if o.get("description")), None),
        sitename=names[0] if names else None,
        categories=categories,
        tags=tags,
        image=meta.og.get("image") or _jsonld_image(articles),
        language=language,
        language_source=language_source,
        language_confidence=confidence,
        language_mismatch=mismatch,
        canonical=meta.canonical,
        page_type=",".join(sorted(meta.types)) or None,
        word_count=words,
        encoding=encoding,
        warnings=warnings,
    )


def _published(
    meta: PageMeta,
    tree: lxml.html.HtmlElement,
    url: str,
    hint_published: str | None,
    modified: str | None,
) -> tuple[str | None, str | None]:
    """The publication date by the order of evidence documented in archive.dates."""
    declared = (meta.declared_language() or "").lower()
    month_first = declared in ("en", "en-us")

    def jsonld() -> str | None:
        for obj in [*meta.article_objects(), *meta.dated_objects()]:
            value = normalise_date(obj.get("datePublished"))
            if value:
                return value
        return None

    def meta_tags() -> str | None:
        for name in PUBLISHED_META:
            for value in meta.all(name):
                value = normalise_date(value)
                if value:
                    return value
        return None

    def htmldate() -> str | None:
        try:
            view = _article_view(tree, meta.h1_element)
            return find_date(view, extensive_search=False, original_date=True, url=url)
        except Exception:  # htmldate is a last resort; its failure is not the page's
            return None

    return choose_published(
        [
            ("json-ld", jsonld),
            ("meta", meta_tags),
            ("dateline", lambda: visible_dateline(tree, meta.h1_element, month_first)),
            ("url", lambda: url_date(url)),
            ("feed", hint_published),
            ("htmldate", htmldate),
        ],
        modified=modified,
    )


_UPDATE_MARKS = (
    "//meta[contains(translate(@property, 'MODIFEUPDT', 'modifeupdt'), 'modified')"
    " or contains(translate(@property, 'MODIFEUPDT', 'modifeupdt'), 'updated')"
    " or contains(translate(@name, 'MODIFEUPDT', 'modifeupdt'), 'modified')"
    " or contains(translate(@name, 'MODIFEUPDT', 'modifeupdt'), 'updated')"
    " or contains(translate(@itemprop, 'MODIFEUPDT', 'modifeupdt'), 'modified')"
    " or contains(translate(@http-equiv, 'MODIFEUPDT', 'modifeupdt'), 'modified')]"
    " | //body//*[contains(@itemprop, 'dateModified') or contains(@class, 'updated')"
    " or contains(@class, 'modified')]"
    " | //body//header | //body//nav | //body//footer | //body//aside"
)


def _article_view(
    tree: lxml.html.HtmlElement, h1: lxml.html.HtmlElement | None
) -> lxml.html.HtmlElement:
    """A copy of the page for htmldate without what misleads it: modification dates, and
    the site header with its "today" above the headline."""
    view = deepcopy(tree)
    if h1 is not None:
        found = view.xpath(tree.getroottree().getpath(h1))
        node = found[0] if found else None
        while node is not None and node.tag not in ("body", "html"):
            for sibling in list(node.itersiblings(preceding=True)):
                sibling.drop_tree()
            node = node.getparent()
    for element in view.xpath(_UPDATE_MARKS):
        if element.getparent() is not None and (h1 is None or element.find(".//h1") is None):
            element.drop_tree()
    return view


def _modified(meta: PageMeta) -> str | None:
    for obj in meta.article_objects():
        value = normalise_date(obj.get("dateModified"))
        if value:
            return value
    for name in MODIFIED_META:
        value = normalise_date(meta.first(name))
        if value:
            return value
    return None


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.casefold())
    return {tuple(tokens[i : i + 4]) for i in range(max(len(tokens) - 3, 1))} if tokens else set()


def _with_lead(text: str, lead: str | None, title: str | None) -> str:
    """Put back the lead paragraph when trafilatura left it out."""
    if not lead or (title and lead.casefold() == title.casefold()):
        return text
    lead_shingles = _shingles(lead)
    if not lead_shingles:
        return text
    present = len(lead_shingles & _shingles(text)) / len(lead_shingles)
    if present >= 0.5:
        return text
    return f"{lead}\n{text}" if text else lead


def _jsonld_image(articles: list[dict]) -> str | None:
    for obj in articles:
        image = obj.get("image")
        if isinstance(image, list):
            image = image[0] if image else None
        if isinstance(image, dict):
            image = image.get("url")
        if isinstance(image, str) and image.strip():
            return image.strip()
    return None


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
