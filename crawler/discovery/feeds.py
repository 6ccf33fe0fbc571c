"""Reading syndication feeds (RSS 0.9x/2.0, RSS 1.0/RDF, Atom, JSON Feed) into entries, and
finding the feeds an HTML page advertises."""

from __future__ import annotations

import json
import re
from html.entities import html5 as _HTML5_ENTITIES
from urllib.parse import urljoin

import lxml.etree

from crawler.discovery.entries import (
    Entry,
    _absolute_url,
    _clean_text,
    _element_text,
    _parse_html,
    parse_date,
)

__all__ = ["feed_urls_in_html", "looks_like_feed", "parse_feed"]

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_RSS_NAMESPACES = {
    "",
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
}
_ATOM_NAMESPACES = {"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#", ""}
_DC_NS = "http://purl.org/dc/elements/1.1/"
_DCTERMS_NS = "http://purl.org/dc/terms/"
_FEEDBURNER_NS = "http://rssnamespace.org/feedburner/ext/1.0"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

# Hostile-input settings: never expand or fetch entities (billion laughs, XXE), keep libxml2's
# size limits, and salvage what a broken document still holds.
_XML_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "recover": True,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}

# Feeds routinely use HTML named entities (&eacute;, &rsquo;, &nbsp;) that XML does not define;
# unresolved they would be lost, so turn them into character references before parsing.
_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _xml_parser() -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(**_XML_PARSER_OPTIONS)


def _numeric_entities(body: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        char = _HTML5_ENTITIES.get(name.decode("ascii") + ";")
        if char is None:
            return match.group(0)  # maybe declared by the document; left unresolved anyway
        return "".join(f"&#{ord(c)};" for c in char).encode("ascii")

    return _NAMED_ENTITY.sub(replace, body)


def _local(el: lxml.etree._Element) -> tuple[str, str]:
    """(namespace, local name) of an element; ("", "") for comments, entities and the like."""
    tag = el.tag
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _children(el: lxml.etree._Element, name: str, namespaces: set[str] | str) -> list:
    if isinstance(namespaces, str):
        namespaces = {namespaces}
    return [c for c in el if _local(c)[1] == name and _local(c)[0] in namespaces]


def _first_text(el: lxml.etree._Element, name: str, namespaces: set[str] | str) -> str:
    for child in _children(el, name, namespaces):
        if text := _element_text(child).strip():
            return text
    return ""


def _base(el: lxml.etree._Element, url: str) -> str:
    """The xml:base in effect for `el`, resolved from the document URL down."""
    bases = []
    node: lxml.etree._Element | None = el
    while node is not None:
        if value := node.get(f"{{{_XML_NS}}}base"):
            bases.append(value.strip())
        node = node.getparent()
    base = url
    for value in reversed(bases):
        base = urljoin(base, value)
    return base


def parse_feed(body: bytes, url: str) -> list[Entry]:
    """Entries of an RSS, RDF, Atom or JSON feed; unreadable input gives what could be read."""
    if isinstance(body, str):  # tolerated: callers holding decoded text
        body = body.encode("utf-8")
    if not body:
        return []
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return _parse_json_feed(body, url)
    try:
        root = lxml.etree.fromstring(_numeric_entities(body), _xml_parser())
    except (lxml.etree.LxmlError, ValueError):
        return []
    if root is None:
        return []
    ns, name = _local(root)
    if name == "rss" or (name == "RDF" and ns == _RDF_NS):
        return _parse_rss(root, url, "rss" if name == "rss" else "rdf")
    if name == "feed" and ns in _ATOM_NAMESPACES:
        return _parse_atom(root, url)
    return []


def _parse_rss(root: lxml.etree._Element, url: str, via: str) -> list[Entry]:
    entries = []
    for item in root.iter():
        ns, name = _local(item)
        if name != "item" or ns not in _RSS_NAMESPACES:
            continue
        base = _base(item, url)
        link = None
        # FeedBurner rewrites <link> to a tracking redirect and keeps the real one here.
        for candidate in (
            _first_text(item, "origLink", _FEEDBURNER_NS),
            _first_text(item, "link", _RSS_NAMESPACES),
        ):
            if link := _absolute_url(candidate, base):
                break
        if link is None:
            for guid in _children(item, "guid", _RSS_NAMESPACES):
                if guid.get("isPermaLink", "true").strip().lower() != "false":
                    link = _absolute_url(_element_text(guid), base)
                    break
        if link is None and via == "rdf":
            link = _absolute_url(item.get(f"{{{_RDF_NS}}}about"), base)
        if link is None:
            continue
        published = parse_date(
            _first_text(item, "pubDate", _RSS_NAMESPACES)
            or _first_text(item, "date", _DC_NS)
            or _first_text(item, "issued", _DCTERMS_NS)
        )
        modified = parse_date(
            _first_text(item, "modified", _DCTERMS_NS)
            or _first_text(item, "updated", "http://www.w3.org/2005/Atom")
        )
        entries.append(
            Entry(
                url=link,
                title=_clean_text(_first_text(item, "title", _RSS_NAMESPACES)),
                published=published,
                modified=modified,
                via=via,
            )
        )
    return entries


def _parse_atom(root: lxml.etree._Element, url: str) -> list[Entry]:
    atom_ns = _local(root)[0]
    entries = []
    for entry in root.iter(f"{{{atom_ns}}}entry" if atom_ns else "entry"):
        link = _atom_link(entry, url, atom_ns)
        if link is None:
            continue
        # Atom 0.3 called them issued and modified.
        published = _first_text(entry, "published", atom_ns) or _first_text(
            entry, "issued", atom_ns
        )
        modified = _first_text(entry, "updated", atom_ns) or _first_text(entry, "modified", atom_ns)
        entries.append(
            Entry(
                url=link,
                title=_clean_text(_first_text(entry, "title", atom_ns)),
                published=parse_date(published),
                modified=parse_date(modified),
                via="atom",
            )
        )
    return entries


def _atom_link(entry: lxml.etree._Element, url: str, atom_ns: str) -> str | None:
    alternates = []
    for link in _children(entry, "link", atom_ns):
        rel = (link.get("rel") or "alternate").strip().lower()
        if rel != "alternate":
            continue
        href = link.get("href")
        if href is None:  # a few generators write the URL as element text
            href = _element_text(link)
        if resolved := _absolute_url(href, _base(link, url)):
            kind = (link.get("type") or "text/html").split(";")[0].strip().lower()
            alternates.append((kind not in ("text/html", "application/xhtml+xml"), resolved))
    if alternates:
        return min(alternates, key=lambda pair: pair[0])[1]  # prefer the HTML alternate
    # Without an alternate link the id is sometimes the permalink (WordPress: https://…/?p=123);
    # only an absolute one, since a relative id is a name, not a location.
    entry_id = _first_text(entry, "id", atom_ns)
    if entry_id.lower().startswith(("http://", "https://")):
        return _absolute_url(entry_id, url)
    return None


def _parse_json_feed(body: bytes, url: str) -> list[Entry]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return []
    entries = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = _absolute_url(item.get("url"), url) or _absolute_url(item.get("external_url"), url)
        if link is None:
            continue
        title = item.get("title")
        published = item.get("date_published")
        modified = item.get("date_modified")
        entries.append(
            Entry(
                url=link,
                title=_clean_text(title) if isinstance(title, str) else None,
                published=parse_date(published) if isinstance(published, str) else None,
                modified=parse_date(modified) if isinstance(modified, str) else None,
                via="jsonfeed",
            )
        )
    return entries


_FEED_CONTENT_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
)
_XML_PROLOGUE = re.compile(
    r"^\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*", re.DOTALL
)
_FEED_ROOT = re.compile(r"<(?:[\w.-]+:)?(rss|feed|RDF)[\s>/]")
_HTML_ROOT = re.compile(r"\s*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)


def looks_like_feed(body: bytes, content_type: str = "") -> bool:
    """Whether a response is a feed, from its first bytes and its Content-Type."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = _decode_head(body[:4096])
    if not head.strip() or _HTML_ROOT.match(head):
        return False  # nothing, or an HTML error page whatever the server claims
    mime = content_type.split(";")[0].strip().lower()
    if head.lstrip().startswith("{"):
        return mime == "application/feed+json" or "jsonfeed.org/version" in head
    if mime in _FEED_CONTENT_TYPES:
        return True
    prologue = _XML_PROLOGUE.match(head)
    rest = head[prologue.end() :] if prologue else head
    return bool(_FEED_ROOT.match(rest))


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")


_FEED_LINK_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
}
_COMMENT_TITLE = re.compile(r"comment", re.IGNORECASE)


def feed_urls_in_html(html: str | bytes, url: str) -> list[str]:
    """Feeds a page advertises with <link rel="alternate">, minus comment feeds; in page order."""
    doc = _parse_html(html)
    if doc is None:
        return []
    base = url
    for base_el in doc.iter("base"):
        if href := base_el.get("href"):
            base = urljoin(url, href.strip())
        break
    found: list[str] = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rel or kind not in _FEED_LINK_TYPES:
            continue
        feed_url = _absolute_url(link.get("href"), base)
        if feed_url is None or feed_url in found:
            continue
        lowered = feed_url.lower()
        if "/comments/feed" in lowered or "feed=comments" in lowered:
            continue
        if _COMMENT_TITLE.search(link.get("title") or ""):
            continue
        # WordPress advertises its REST API as application/json; that is not a feed.
        if "/wp-json/" in lowered or "rest_route=" in lowered:
            continue
        found.append(feed_url)
    return found
