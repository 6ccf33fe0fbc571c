"""The one generic spider: every outlet is crawled the same way.

From an outlet's homepage alone it finds robots.txt `Sitemap:` lines, sitemap
indexes (gzipped or not, Google News ones included), RSS/Atom/JSON feeds, and
section pages with their pagination. Article candidates are canonicalised,
checked against the archive (an article archived once is not fetched again)
and against SINCE, then fetched once. Every fetch, good or failed, leaves as a
RawPage item for the archive pipeline.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from archive.ingest import Archive
from archive.monitor import DISCOVERY_ROLES, RECHECK_MODES, conditional_headers
from archive.page import RawPage
from archive.seeds import Outlet, load_seeds, select_outlets
from archive.urls import canonical_url, strip_credentials, url_key
from crawler.discovery.entries import Entry, parse_date
from crawler.discovery.feeds import feed_urls_in_html, looks_like_feed, parse_feed
from crawler.discovery.links import (
    anchor_links,
    date_in_url,
    is_trap,
    looks_like_article,
    looks_like_hub,
    page_is_article,
    pagination_number,
)
from crawler.discovery.sitemaps import parse_sitemap, sitemaps_from_robots
from crawler.failures import describe_failure, install_log_filters

logger = logging.getLogger(__name__)

# Sitemap locations to try when robots.txt names none: the conventional one,
# and WordPress's own (5.5+). Yoast's index answers at the first one too.
GUESSED_SITEMAPS = ("/sitemap.xml", "/wp-sitemap.xml")
# Discovery pages fetched with If-None-Match / If-Modified-Since after a finished crawl.
CONDITIONAL_ROLES = DISCOVERY_ROLES
PAGE_IN_PATH = re.compile(r"/page/\d+/?$")
# Links judged per crawl and kept (a few hundred bytes each): far more than one site's
# menus, sidebars and footers, which are what repeats from page to page.
LINK_VERDICTS = 16_384
# Listings that say what each article is (its date and title) before sections that only
# link to it: an article is then recorded as found through the richer source.
ROLE_PRIORITY = {"robots": 30, "api": 20, "sitemap": 20, "feed": 20, "homepage": 10}


def _headers_dict(headers) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in headers.items()}


def wordpress_api_root(response: Response) -> str | None:
    """The WordPress REST API root an outlet announces (Link header or <link rel>)."""
    for value in response.headers.getlist("Link"):
        match = re.search(r'<([^>]+)>\s*;\s*rel="https://api\.w\.org/"', value.decode("latin-1"))
        if match:
            return urljoin(response.url, match.group(1))
    if not hasattr(response, "css"):
        return None
    href = response.css('link[rel="https://api.w.org/"]::attr(href)').get()
    return urljoin(response.url, href) if href else None


def wordpress_posts_url(root: str, params: dict[str, str]) -> str:
    """The posts endpoint under an API root, in its pretty or ?rest_route= form."""
    query = urlencode(params)
    if "rest_route=" in root:
        base = root.split("?", 1)[0]
        return f"{base}?rest_route=/wp/v2/posts&{query}"
    return f"{root.rstrip('/')}/wp/v2/posts?{query}"


def listing_base(url: str) -> str:
    """A listing's URL without its page number: /category/x/page/3/ → /category/x/."""
    url = PAGE_IN_PATH.sub("/", url.split("?", 1)[0])
    return url.rstrip("/")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_since(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"SINCE must be a date as YYYY-MM-DD, got {value!r}") from exc


class OutletsSpider(scrapy.Spider):
    name = "outlets"

    def __init__(
        self,
        seeds: str = "seeds/outlets.toml",
        db: str = "data/archive.db",
        outlet: str | None = None,
        since: str | None = None,
        warc: str = "data/warc",
        recheck: str = "due",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if recheck not in RECHECK_MODES:
            raise ValueError(f"RECHECK must be one of {', '.join(RECHECK_MODES)}, got {recheck!r}")
        self.recheck_mode = recheck
        self.previous_crawl: dict | None = None
        self.seeds_path = seeds
        self.db_path = db
        # Where raw responses are kept as WARC; "none" (or empty) switches capture off.
        self.warc_root = None if warc in ("", "none", "None") else warc
        self.outlets: list[Outlet] = select_outlets(load_seeds(seeds), outlet or None)
        self.since = parse_since(since)
        self.discovered: set[str] = set()
        self.stats_by_outlet: dict[str, Counter[str]] = {o.slug: Counter() for o in self.outlets}
        self.hubs_seen: Counter[str] = Counter()
        self.outlet_failures: list[str] = []
        self.archive = None
        # Every page of a site links to the same menu, sidebar and footer URLs: judging
        # each link once per crawl, not once per page, halves the crawl process's work.
        self._outlets_by_slug = {o.slug: o for o in self.outlets}
        self._in_scope = lru_cache(maxsize=LINK_VERDICTS)(self._judge_in_scope)
        self._article_link = lru_cache(maxsize=LINK_VERDICTS)(self._judge_article_link)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> OutletsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.hub_depth = settings.getint("VEILLE_HUB_DEPTH", 2)
        spider.max_hubs = settings.getint("VEILLE_MAX_HUBS_PER_OUTLET", 300)
        spider.max_pagination = settings.getint("VEILLE_MAX_PAGINATION", 50)
        spider.follow_article_links = settings.getbool("VEILLE_FOLLOW_ARTICLE_LINKS", True)
        spider.max_api_pages = settings.getint("VEILLE_MAX_API_PAGES", 100)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        return spider

    def _opened(self, spider: scrapy.Spider) -> None:
        install_log_filters()  # now: Scrapy has installed its log handler by this point
        # The archive pipeline normally hands its handle over before this runs.
        if self.archive is None:
            self.archive = Archive(self.db_path, self.outlets)
        # Conditional requests only after a crawl of the same outlets finished: what an
        # interrupted crawl listed but never fetched must be listed again.
        self.previous_crawl = self.archive.last_crawl([o.slug for o in self.outlets])
        self.first_crawl = self.archive.first_crawl([o.slug for o in self.outlets])

    def _dropped(self, request: scrapy.Request, spider: scrapy.Spider | None = None) -> None:
        # A redirect back to a URL already requested is dropped by the duplicate
        # filter without reaching any errback: a redirect loop. Record it.
        chain = request.meta.get("redirect_urls")
        if not chain or self.archive is None or "outlet" not in request.meta:
            return
        if request.url in chain:
            reason = f"redirect loop: {chain[-1]} redirects back to {request.url}"
        else:
            reason = f"redirects to {request.url}, already fetched in this run"
        self.logger.warning("%s %s failed: %s", request.meta.get("role"), chain[0], reason)
        self.archive.ingest(
            RawPage(
                url=chain[0],
                final_url=strip_credentials(chain[-1]),
                outlet=request.meta["outlet"],
                role=request.meta.get("role", "article"),
                fetched_at=utc_now(),
                error=reason,
                found_via=request.meta.get("found_via", ""),
            ),
            run_id=getattr(self, "run_id", None),
        )

    # -- start ----------------------------------------------------------------

    async def start(self):
        for outlet in self.outlets:
            base = outlet.homepage
            yield self._request(
                urljoin(base, "/robots.txt"),
                outlet,
                "robots",
                self.parse_robots,
                # A missing robots.txt still sends us to the conventional sitemaps.
                meta={"dont_obey_robotstxt": True, "handle_httpstatus_list": [404, 410]},
            )
            yield self._request(base, outlet, "homepage", self.parse_hub, depth=0)
            for feed in outlet.feeds:
                yield self._request(feed, outlet, "feed", self.parse_feed, found_via="seeds")
            for sitemap in outlet.sitemaps:
                yield self._request(
                    sitemap, outlet, "sitemap", self.parse_sitemap, found_via="seeds"
                )
            for due in self.archive.due_rechecks(outlet.slug, self.recheck_mode):
                self._count(outlet, "rechecks")
                yield self._recheck_request(outlet, due["url"], due["etag"], due["last_modified"])

    def _recheck_request(
        self, outlet: Outlet, url: str, etag: str | None, last_modified: str | None
    ) -> scrapy.Request:
        request = self._request(
            url,
            outlet,
            "recheck",
            self.parse_recheck,
            found_via="recheck",
            meta={"handle_httpstatus_list": [304, 404, 410]},
            dont_filter=True,
        )
        request.headers.update(conditional_headers(etag, last_modified))
        return request

    def _request(
        self,
        url: str,
        outlet: Outlet,
        role: str,
        callback,
        found_via: str = "",
        depth: int = 0,
        meta: dict | None = None,
        dont_filter: bool = False,
        **hints: Any,
    ) -> scrapy.Request:
        meta = {
            "outlet": outlet.slug,
            "role": role,
            "found_via": found_via,
            "hub_depth": depth,
            "hints": hints,
            **(meta or {}),
        }
        headers = {}
        if role in CONDITIONAL_ROLES and self.previous_crawl and self.archive is not None:
            headers = self.archive.validators(url)
            if headers:
                meta["handle_httpstatus_list"] = [*meta.get("handle_httpstatus_list", []), 304]
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=ROLE_PRIORITY.get(role, 0),
            dont_filter=dont_filter,
            headers=headers,
            meta=meta,
        )

    def _unchanged(self, response: Response) -> bool:
        """A discovery page that has not changed since the last finished crawl."""
        if response.status == 304:
            return True
        return bool(self.previous_crawl) and self.archive.known_body(
            response.meta.get("redirect_urls", [response.url])[0], response.body
        )

    def _outlet(self, response_or_request) -> Outlet:
        slug = response_or_request.meta["outlet"]
        return next(o for o in self.outlets if o.slug == slug)

    def _page(self, response: Response, role: str | None = None) -> RawPage:
        meta = response.meta
        hints = meta.get("hints") or {}
        return RawPage(
            url=meta.get("redirect_urls", [response.url])[0],
            final_url=strip_credentials(response.url),
            outlet=meta["outlet"],
            role=role or meta["role"],
            status=response.status,
            headers=_headers_dict(response.headers),
            body=response.body,
            fetched_at=utc_now(),
            found_via=meta.get("found_via", ""),
            hint_title=hints.get("title"),
            hint_published=hints.get("published"),
            elapsed_ms=int(meta["download_latency"] * 1000) if "download_latency" in meta else None,
            request_headers=_headers_dict(response.request.headers)
            if response.request is not None
            else {},
        )

    # -- callbacks --------------------------------------------------------------

    def parse_robots(self, response: Response):
        outlet = self._outlet(response)
        yield self._page(response)
        sitemaps = (
            sitemaps_from_robots(response.body, response.url) if response.status == 200 else []
        )
        if not sitemaps:
            sitemaps = [urljoin(outlet.homepage, path) for path in GUESSED_SITEMAPS]
            found_via = "guess"
        else:
            found_via = "robots"
        for url in sitemaps:
            if self._allowed(outlet, url):
                yield self._request(url, outlet, "sitemap", self.parse_sitemap, found_via=found_via)

    def parse_sitemap(self, response: Response):
        outlet = self._outlet(response)
        yield self._page(response)
        if self._unchanged(response):
            self._count(outlet, "unchanged_pages")
            return
        doc = parse_sitemap(response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))
        if doc.kind == "sitemapindex":
            for entry in doc.entries:
                if self.since and entry.modified and entry.modified.date() < self.since:
                    self._count(outlet, "sitemaps_skipped_since")
                    continue
                if self._allowed(outlet, entry.url):
                    yield self._request(
                        entry.url, outlet, "sitemap", self.parse_sitemap, found_via="sitemapindex"
                    )
        elif doc.kind == "urlset":
            for entry in doc.entries:
                if self._is_article_link(outlet, entry.url) or entry.via == "news-sitemap":
                    yield from self._candidate(outlet, entry.url, entry.via or "sitemap", entry)
                elif looks_like_hub(entry.url, outlet.homepage):
                    # Category sitemaps list sections: crawl them as listings.
                    yield from self._hub_request(outlet, entry.url, depth=1)
        elif looks_like_feed(response.body, response.headers.get("Content-Type", b"").decode()):
            # Some outlets list their RSS feed as a sitemap; take it for what it is.
            yield from self._feed_entries(outlet, response)

    def parse_feed(self, response: Response):
        outlet = self._outlet(response)
        yield self._page(response)
        if self._unchanged(response):
            self._count(outlet, "unchanged_pages")
            return
        yield from self._feed_entries(outlet, response)

    def _feed_entries(self, outlet: Outlet, response: Response):
        for entry in parse_feed(response.body, response.url):
            yield from self._candidate(outlet, entry.url, entry.via or "feed", entry)

    def parse_hub(self, response: Response):
        outlet = self._outlet(response)
        depth = response.meta.get("hub_depth", 0)
        if response.meta["role"] == "hub" and page_is_article(response.body):
            # A link that looked like a section turned out to be an article.
            yield self._page(response, role="article")
            return
        yield self._page(response)
        if depth == 0:
            yield from self._wordpress_api(outlet, response)
        if self._unchanged(response):
            self._count(outlet, "unchanged_pages")
            return
        if depth == 0:
            for feed in feed_urls_in_html(response.body, response.url):
                if self._allowed(outlet, feed):
                    yield self._request(feed, outlet, "feed", self.parse_feed, found_via="html")
        new_candidates = 0  # articles this page adds to the crawl
        hubs = []
        for link in self._links(outlet, response):
            if self._is_article_link(outlet, link):
                for request in self._candidate(outlet, link, "section"):
                    new_candidates += 1
                    yield request
            elif looks_like_hub(link, outlet.homepage):
                hubs.append(link)
        page_number = pagination_number(response.url) or 1
        if page_number > 1 and new_candidates == 0:
            return  # a listing page with nothing new to fetch: its pagination ends here
        for hub in hubs:
            number = pagination_number(hub)
            is_next_page = (
                number is not None
                and number > page_number
                and listing_base(hub) == listing_base(response.url)
            )
            if not is_next_page and depth >= self.hub_depth:
                continue
            if number is not None and number > self.max_pagination:
                self._count(outlet, "pagination_over_limit")
                continue
            yield from self._hub_request(outlet, hub, depth if is_next_page else depth + 1)

    def _hub_request(self, outlet: Outlet, url: str, depth: int):
        if self.hubs_seen[outlet.slug] >= self.max_hubs:
            self._count(outlet, "hubs_over_limit")
            return
        self.hubs_seen[outlet.slug] += 1
        yield self._request(url, outlet, "hub", self.parse_hub, found_via="section", depth=depth)

    def parse_recheck(self, response: Response):
        yield self._page(response, role="recheck")

    # -- WordPress REST API -------------------------------------------------------

    def _wordpress_api(self, outlet: Outlet, response: Response):
        """Posts listed by the WordPress REST API, when the outlet runs WordPress.

        The API lists every post with its dates: a complete, date-bounded backfill
        (`after`), and the posts edited since the last crawl (`modified_after`).
        Feeds and sitemaps still run: an outlet may block or disable the API.
        """
        root = wordpress_api_root(response)
        if root is None:
            return
        self._count(outlet, "wordpress_api")
        fields = {"per_page": "100", "_fields": "link,date_gmt,modified_gmt,title", "page": "1"}
        since = self.since.isoformat() + "T00:00:00" if self.since else None
        if self.previous_crawl:
            started = datetime.fromisoformat(self.previous_crawl["started"])
            # Posts published since the last crawl (a day's margin for clock skew) ...
            after = (started - timedelta(days=1)).isoformat(timespec="seconds")
            yield self._wp_request(
                outlet, root, {**fields, "after": max(after, since or "")}, "new"
            )
            # ... and posts edited since then: re-checked now, whatever their schedule.
            edited = started.isoformat(timespec="seconds")
            yield self._wp_request(outlet, root, {**fields, "modified_after": edited}, "edited")
        else:
            yield self._wp_request(
                outlet, root, {**fields, **({"after": since} if since else {})}, "backfill"
            )

    def _wp_request(self, outlet: Outlet, root: str, params: dict, purpose: str):
        return self._request(
            wordpress_posts_url(root, params),
            outlet,
            "api",
            self.parse_wp_posts,
            found_via="wordpress-api",
            meta={"wp_root": root, "wp_params": params, "wp_purpose": purpose},
        )

    def parse_wp_posts(self, response: Response):
        outlet = self._outlet(response)
        yield self._page(response)
        try:
            posts = json.loads(response.text)
        except (ValueError, AttributeError):
            self.logger.warning(
                "WordPress API %s: not JSON; using feeds and sitemaps", response.url
            )
            return
        if not isinstance(posts, list):
            return
        purpose = response.meta["wp_purpose"]
        for post in posts:
            link = post.get("link") if isinstance(post, dict) else None
            if not isinstance(link, str):
                continue
            url = canonical_url(link)
            if not url or not self._allowed(outlet, url):
                continue
            if purpose == "edited" and self.archive.is_known(url):
                self._count(outlet, "edited_rechecks")
                yield self._recheck_request(outlet, url, None, None)
                continue
            title = (
                (post.get("title") or {}).get("rendered")
                if isinstance(post.get("title"), dict)
                else None
            )
            entry = Entry(
                url=url,
                title=title,
                published=parse_date(post.get("date_gmt")),
                via="wordpress-api",
            )
            yield from self._candidate(outlet, url, "wordpress-api", entry)
        page = int(response.meta["wp_params"].get("page", "1"))
        pages = int(response.headers.get("X-WP-TotalPages", b"1") or 1)
        if page < min(pages, self.max_api_pages):
            params = {**response.meta["wp_params"], "page": str(page + 1)}
            yield self._wp_request(outlet, response.meta["wp_root"], params, purpose)

    def parse_article(self, response: Response):
        outlet = self._outlet(response)
        yield self._page(response)
        if self.follow_article_links:
            for link in self._links(outlet, response):
                if self._is_article_link(outlet, link):
                    yield from self._candidate(outlet, link, "related")

    def on_error(self, failure: Failure):
        request = failure.request
        outlet = self._outlet(request)
        response = getattr(failure.value, "response", None)
        reason = describe_failure(failure)
        role = request.meta.get("role")
        if failure.check(IgnoreRequest) and "robots.txt" in reason:
            # Not a fetch at all: the outlet asked us not to, and we did not.
            self._count(outlet, "disallowed_by_robots")
            self.logger.info("Not fetched, disallowed by robots.txt: %s", request.url)
            return
        if role in {"homepage", "robots"} and response is None:
            message = f"outlet {outlet.slug}: {role} {request.url} unreachable: {reason}"
            self.logger.error(message)
            if role == "homepage":
                self.outlet_failures.append(message)
        elif role == "api":
            self.logger.info(
                "WordPress API %s unavailable (%s): feeds and sitemaps are used",
                request.url,
                reason,
            )
        else:
            origin = (request.meta.get("redirect_urls") or [request.url])[0]
            self.logger.warning("%s %s failed: %s", role, origin, reason)
        hints = request.meta.get("hints") or {}
        yield RawPage(
            url=request.meta.get("redirect_urls", [request.url])[0],
            final_url=strip_credentials(response.url) if response is not None else None,
            outlet=outlet.slug,
            role=role,
            status=response.status if response is not None else None,
            headers={},
            body=b"",
            error=reason,
            fetched_at=utc_now(),
            found_via=request.meta.get("found_via", ""),
            hint_title=hints.get("title"),
            hint_published=hints.get("published"),
        )

    # -- discovery helpers ------------------------------------------------------

    def _links(self, outlet: Outlet, response: Response) -> list[str]:
        """The page's links that belong to the outlet, canonical, traps left out."""
        if not isinstance(response, TextResponse):
            return []
        links = []
        for raw in anchor_links(response.body, response.url, response.encoding):
            judged = self._in_scope(outlet.slug, raw)
            if judged is not None:
                links.append(judged[0])
        return links

    def _judge_in_scope(self, slug: str, raw_url: str) -> tuple[str, str] | None:
        """(canonical URL, url_key) of a link the outlet owns and that is no trap."""
        outlet = self._outlets_by_slug[slug]
        url = canonical_url(raw_url)
        if not url or not self._allowed(outlet, url) or is_trap(url):
            return None
        return url, url_key(url)

    def _judge_article_link(self, slug: str, url: str) -> bool:
        """An article by the outlet's own pattern, or by the generic URL heuristics."""
        outlet = self._outlets_by_slug[slug]
        if outlet.article_pattern is not None:
            # A pattern scopes the outlet's articles; sections inside that scope stay sections.
            return bool(outlet.article_pattern.search(url)) and not looks_like_hub(
                url, outlet.homepage
            )
        return looks_like_article(url)

    def _is_article_link(self, outlet: Outlet, url: str) -> bool:
        return self._article_link(outlet.slug, url)

    def _allowed(self, outlet: Outlet, url: str) -> bool:
        return outlet.owns(url) and not outlet.excluded(url)

    def _candidate(self, outlet: Outlet, raw_url: str, via: str, entry: Entry | None = None):
        judged = self._in_scope(outlet.slug, raw_url)
        if judged is None:
            return
        url, key = judged
        if outlet.article_pattern and not outlet.article_pattern.search(url):
            return
        if key in self.discovered:
            return
        self.discovered.add(key)
        self._count(outlet, "discovered")
        published = entry.published if entry else None
        listed_day = published.date() if published else date_in_url(url)
        if self.since and listed_day and listed_day < self.since:
            self._count(outlet, "skipped_since")
            return
        if self.archive.is_known(url):
            self._count(outlet, "skipped_known")
            self.archive.touch(url)
            return
        yield self._request(
            url,
            outlet,
            "article",
            self.parse_article,
            found_via=via,
            title=entry.title if entry else None,
            published=published.isoformat() if published else None,
        )

    def _count(self, outlet: Outlet, key: str) -> None:
        self.stats_by_outlet[outlet.slug][key] += 1
        self.crawler.stats.inc_value(f"veille/{key}")
