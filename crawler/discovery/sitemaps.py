"""Reading XML sitemaps (urlset, sitemap index, Google News), gzipped or not, plain-text
sitemaps, and the Sitemap: lines of robots.txt."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag

import lxml.etree
from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.discovery.entries import (
    Entry,
    _absolute_url,
    _clean_text,
    _element_text,
    parse_date,
)

__all__ = ["SitemapDoc", "parse_sitemap", "sitemaps_from_robots"]


@dataclass
class SitemapDoc:
    """A parsed sitemap: its kind ("urlset", "sitemapindex", or None) and its entries."""

    kind: str | None
    entries: list[Entry] = field(default_factory=list)


class _NewsSitemap(Sitemap):
    """Scrapy's streaming sitemap reader, also keeping the nested <news:news> fields.

    Scrapy only records the text of each <url>'s direct children, so news:title and
    news:publication_date would be lost; read them before Scrapy clears the element.
    Scrapy's iterparse already uses the hostile-input settings: resolve_entities=False,
    recover=True, and lxml's defaults no_network=True, huge_tree=False.
    """

    __slots__ = ()

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        tag = self._get_tag_name(elem)
        news: dict[str, str] | None = None
        for child in elem:
            # By local name: some generators get the news namespace URI wrong.
            if self._get_tag_name(child) == "news":
                news = {}
                for field_el in child.iter():
                    name = self._get_tag_name(field_el)
                    if name in ("title", "publication_date") and name not in news:
                        news[name] = _element_text(field_el)
                break
        d = super()._process_sitemap_element(elem)
        if d is not None:
            d["_tag"] = tag
            d["_news"] = news
        return d


def parse_sitemap(body: bytes, url: str, max_size: int = 50 * 1024 * 1024) -> SitemapDoc:
    """Read a sitemap, sitemap index or plain-text sitemap, gzipped or not.

    `max_size` bounds the (decompressed) document; a larger, corrupt or unrecognised one gives
    SitemapDoc(None, []).
    """
    if isinstance(body, str):  # tolerated: callers holding decoded text
        body = body.encode("utf-8")
    if not body:
        return SitemapDoc(None, [])
    # Sniff the magic number: servers gzip .xml and serve .xml.gz already decompressed.
    if gzip_magic_number(Response("about:blank", body=body)):
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, EOFError, ValueError, struct.error, zlib.error):  # corrupt or too large
            return SitemapDoc(None, [])
    if max_size and len(body) > max_size:
        return SitemapDoc(None, [])
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _parse_text_sitemap(body, url)
    return _parse_xml_sitemap(body, url)


def _parse_xml_sitemap(body: bytes, url: str) -> SitemapDoc:
    try:
        sitemap = _NewsSitemap(body)
    except (lxml.etree.LxmlError, StopIteration, ValueError):
        return SitemapDoc(None, [])
    kind = sitemap.type
    if kind not in ("urlset", "sitemapindex"):
        return SitemapDoc(None, [])
    wanted = "url" if kind == "urlset" else "sitemap"
    entries: list[Entry] = []
    try:
        for item in sitemap:
            if item.get("_tag") != wanted:
                continue
            loc = _absolute_url(item.get("loc"), url)
            if loc is None:
                continue
            modified = parse_date(item.get("lastmod"))
            news = item.get("_news")
            if kind == "sitemapindex":
                entries.append(Entry(url=loc, modified=modified, via="sitemapindex"))
            elif news is not None:
                entries.append(
                    Entry(
                        url=loc,
                        title=_clean_text(news.get("title")),
                        published=parse_date(news.get("publication_date")),
                        modified=modified,
                        via="news-sitemap",
                    )
                )
            else:
                entries.append(Entry(url=loc, modified=modified, via="sitemap"))
    except lxml.etree.LxmlError:
        pass  # a truncated or broken document: keep what was read before the damage
    return SitemapDoc(kind, entries)


def _parse_text_sitemap(body: bytes, url: str) -> SitemapDoc:
    """One absolute URL per line (sitemaps.org text format); other lines are ignored."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line.lower().startswith(("http://", "https://")) or any(c.isspace() for c in line):
            continue
        if loc := _absolute_url(line, url):
            entries.append(Entry(url=loc, via="sitemap"))
    if not entries:
        return SitemapDoc(None, [])
    return SitemapDoc("urlset", entries)


def sitemaps_from_robots(robots_txt: str | bytes, url: str) -> list[str]:
    """Sitemap URLs declared in a robots.txt, resolved against its URL; deduplicated, in order."""
    if isinstance(robots_txt, str):
        # Scrapy deprecates str input; robots.txt is UTF-8 by RFC 9309.
        robots_txt = robots_txt.encode("utf-8", errors="replace")
    found: list[str] = []
    for raw in sitemap_urls_from_robots(robots_txt, base_url=url):
        # Scrapy keeps the rest of the line: drop a trailing "# comment" and any fragment.
        parts = raw.split()
        if not parts:
            continue
        sitemap_url = _absolute_url(urldefrag(parts[0])[0], url)
        # An empty "Sitemap:" line resolves to the robots.txt URL itself.
        if sitemap_url is None or sitemap_url == url or sitemap_url in found:
            continue
        found.append(sitemap_url)
    return found
