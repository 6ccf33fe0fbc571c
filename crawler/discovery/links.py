"""Judging URLs and pages without fetching more: article or listing, worth following or a trap,
which page of a listing, which day a URL was published."""

from __future__ import annotations

import codecs
import html
import json
import re
from datetime import date
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from crawler.discovery.entries import _parse_html

__all__ = [
    "anchor_links",
    "date_in_url",
    "is_trap",
    "looks_like_article",
    "looks_like_hub",
    "page_is_article",
    "pagination_number",
]

# Listing prefixes: the segment after them names a category, tag, author…
_LISTING_SEGMENTS = {
    "category", "categories", "categorie", "catégorie", "categoria", "cat",
    "tag", "tags", "etiquette", "étiquette", "mot-cle", "mot-clé", "mots-cles", "mots-clés",
    "author", "authors", "auteur", "auteurs", "autor", "journaliste", "journalistes",
    "section", "sections", "rubrique", "rubriques",
    "theme", "themes", "thème", "thèmes", "thematique", "thématique",
    "topic", "topics", "sujet", "sujets",
    "dossier", "dossiers", "archive", "archives",
}  # fmt: skip
_STATIC_SEGMENTS = {
    "a-propos", "apropos", "about", "about-us", "qui-sommes-nous", "notre-equipe",
    "la-redaction", "contact", "contacts", "contactez-nous", "nous-contacter",
    "contact-us", "mentions-legales", "mentions", "legal", "legal-notice", "imprint",
    "impressum", "cgu", "cgv", "cookies", "cookie-policy", "confidentialite",
    "donnees-personnelles", "plan-du-site", "sitemap", "faq", "aide", "help", "publicite",
    "annonceurs", "advertise", "abonnement", "abonnements", "s-abonner", "subscribe",
    "newsletter", "newsletters", "credits", "accessibilite", "accessibility", "terms",
    "charte", "deontologie", "faire-un-don", "don", "dons", "donate", "jobs", "recrutement",
    "emplois", "boutique", "shop",
}  # fmt: skip
# Multi-word names only, so that an article slug is unlikely to start with one.
_STATIC_PREFIXES = (
    "privacy", "politique-de-confidentialite", "politique-de-cookies", "politique-cookies",
    "gestion-des-cookies", "mentions-legales", "conditions-generales", "conditions-d-utilisation",
    "terms-of", "terms-and", "cookie-policy", "cookies-policy", "charte-de-confidentialite",
)  # fmt: skip
_FEED_SEGMENTS = {"feed", "feeds", "rss", "rss2", "atom", "flux", "flux-rss", "rdf"}
_WP_PATHS = {
    "wp-admin", "wp-login.php", "wp-json", "wp-content", "wp-includes", "xmlrpc.php",
    "wp-cron.php", "wp-signup.php", "cdn-cgi",
}  # fmt: skip
_MEDIA_EXTENSIONS = {
    "jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "bmp", "ico", "tif", "tiff", "heic",
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "epub",
    "mp3", "m4a", "aac", "wav", "ogg", "oga", "flac", "opus",
    "mp4", "m4v", "webm", "ogv", "mov", "avi", "mkv", "flv", "wmv", "m3u8", "ts",
    "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "exe", "dmg", "apk", "iso", "msi",
    "css", "js", "json", "xml", "rss", "atom", "txt", "csv", "ics", "vcf",
    "woff", "woff2", "ttf", "otf", "eot",
}  # fmt: skip
_PAGE_EXTENSIONS = {"html", "htm", "shtml", "php", "asp", "aspx", "jsp", "cms", "ece"}
_INDEX_NAMES = {"index", "default", "home", "accueil", "main"}

_TRAP_SEGMENTS = {
    "search", "recherche", "rechercher", "chercher", "agenda", "agendas", "calendar",
    "calendars", "calendrier", "print", "imprimer", "impression", "share", "partager",
    "partage", "sharer", "sharer.php", "share.php", "login", "log-in", "signin", "sign-in",
    "connexion", "se-connecter", "identification", "logout", "deconnexion", "register",
    "signup", "sign-up", "inscription", "creer-un-compte", "cart", "panier", "checkout",
    "commande", "my-account", "mon-compte", "account", "compte", "wp-admin", "wp-login.php",
    "xmlrpc.php", "wp-signup.php", "trackback", "embed", "sharearticle",
}  # fmt: skip
_TRAP_PARAMS = {
    "s", "q", "query", "search", "recherche", "keyword", "keywords", "mots", "motcle",
    "mois", "month", "date", "annee", "year", "jour", "day", "ical", "ics", "outlook-ical",
    "tribe-bar-date", "eventdisplay", "replytocom", "unapproved", "moderation-hash", "print",
    "share", "add-to-cart", "redirect_to", "action",
}  # fmt: skip
_EVENT_SEGMENTS = {"events", "event", "evenements", "evenement", "événements", "événement"}
_TRACKING_PARAM = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|xtor|at_\w+|_ga|igshid|ref|from)$"
)
_PAGINATION_PARAMS = {"page", "paged", "p", "pg"}
# Query-string article ids: SPIP (spip.php?article1234), ?id_article=, ?p= shortlinks…
_ID_PARAMS = {
    "id", "id_article", "idarticle", "article", "article_id", "articleid", "art", "nid",
    "news_id", "newsid", "story", "storyid", "post", "post_id", "p", "page_id",
}  # fmt: skip
_ID_PARAM = re.compile(r"^article\d+$")
_ID_STEM = re.compile(r"^(?:article|art|news|post|story)[-_]?\d{3,}$")
_MAX_PAGE = 500
_MAX_URL_LENGTH = 300

_YEAR = r"(?:19[89]\d|20\d\d)"
_ISO_DAY = re.compile(rf"(?<!\d)({_YEAR})-(\d\d)-(\d\d)(?!\d)")
_FRENCH_DAY = re.compile(rf"(?<!\d)(\d\d)-(\d\d)-({_YEAR})(?!\d)")
_COMPACT_DAY = re.compile(rf"(?<![\dA-Za-z])({_YEAR})(\d\d)(\d\d)(?![\dA-Za-z])")
_ID_SUFFIX = re.compile(r"[-_.,](\d{4,})(?:[-_][a-z0-9]{1,8})?(?:\.[a-z]{2,5})?$")
_ID_PREFIX = re.compile(r"^(\d{5,})[-_]")
_PAGE_SUFFIX = re.compile(r"-p(\d+)(?:\.[a-z]{2,5})?$")
_WORDS = re.compile(r"[^\W_]+")

_ARTICLE_TYPES = {
    "newsarticle", "article", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "liveblogposting", "backgroundnewsarticle", "reviewnewsarticle",
    "askpublicnewsarticle", "satiricalarticle",
}  # fmt: skip


class _Url:
    """A URL split once into the pieces the heuristics look at (lowercased, unquoted)."""

    __slots__ = ("extension", "host", "params", "scheme", "segments")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url.strip())
        self.scheme = parts.scheme.lower()
        self.host = (parts.hostname or "").lower()
        # Unquoted so that "fran%C3%A7ais" and "français" compare equal.
        self.segments = [s for s in unquote(parts.path).lower().split("/") if s]
        self.params = [(k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        last = self.segments[-1] if self.segments else ""
        stem, dot, extension = last.rpartition(".")
        self.extension = extension if dot and stem else ""


def _parse(url: str) -> _Url | None:
    try:
        return _Url(url)
    except ValueError:  # malformed netloc (e.g. a broken IPv6 literal)
        return None


def _content_params(u: _Url) -> list[tuple[str, str]]:
    return [(k, v) for k, v in u.params if not _TRACKING_PARAM.match(k)]


def _without_amp(segments: list[str]) -> list[str]:
    # AMP variants (/amp/, /slug/amp) are the same article; the canonicaliser collapses them.
    return [s for s in segments if s != "amp"]


def _strip_pagination(segments: list[str]) -> list[str]:
    """Segments without a trailing /page/N."""
    if len(segments) >= 2 and segments[-2] in ("page", "pages") and _is_number(segments[-1]):
        return segments[:-2]
    return segments


def _is_static(segments: list[str]) -> bool:
    return any(s in _STATIC_SEGMENTS or s.startswith(_STATIC_PREFIXES) for s in segments)


def _is_listing(segments: list[str]) -> bool:
    """A category/tag/author/… page: a listing keyword naming at most one thing after it."""
    segments = _strip_pagination(segments)
    return any(s in _LISTING_SEGMENTS and len(segments) - i <= 2 for i, s in enumerate(segments))


def _is_media(u: _Url) -> bool:
    return u.extension in _MEDIA_EXTENSIONS


def _is_feed(u: _Url) -> bool:
    return bool(u.segments) and (
        u.segments[-1] in _FEED_SEGMENTS
        or u.extension in ("rss", "atom", "xml")
        or any(k == "feed" for k, _ in u.params)
    )


def _has_id(segments: list[str]) -> bool:
    """A numeric article id: a segment of ≥ 4 digits that is not a year, or a -12345 suffix."""
    for segment in segments:
        stem = _file_stem(segment)
        if _is_number(stem) and len(stem) >= 4 and not _is_year(stem):
            return True
        if (m := _ID_SUFFIX.search(segment)) and not _is_year(m.group(1)):
            return True
        if _ID_PREFIX.match(segment):
            return True
    return False


def _has_id_param(u: _Url) -> bool:
    for key, value in _content_params(u):
        if _ID_PARAM.match(key) or (key in _ID_PARAMS and _is_number(value) and len(value) >= 3):
            return True
    return False


def _file_stem(segment: str) -> str:
    return segment.rsplit(".", 1)[0] if "." in segment else segment


def _is_number(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts "²", which int() rejects.
    return text.isascii() and text.isdigit()


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and _is_number(digits) and 1980 <= int(digits) <= 2099


def _date_slug(segments: list[str]) -> bool:
    """A date in the path that names an article, not a date archive (/2024/05/14/)."""
    for i, segment in enumerate(segments):
        rest = segments[i + 1 :]
        if _is_year(segment):
            # /2024/05/slug, /2024/05/14/slug
            tail = rest
            while len(rest) - len(tail) < 2 and tail and _is_number(tail[0]) and len(tail[0]) <= 2:
                tail = tail[1:]
            if len(tail) < len(rest) and tail and _names_something(tail[0]):
                return True
        elif _segment_day(segment) is not None:
            # 20240514-slug, slug-14-05-2024 (the date is in the slug) or /20240514/slug
            leftover = _COMPACT_DAY.sub("", _ISO_DAY.sub("", _FRENCH_DAY.sub("", segment)))
            if _slug_words(leftover) or (rest and _names_something(rest[0])):
                return True
    return False


def _names_something(segment: str) -> bool:
    return not _is_number(segment) and segment not in ("page", "pages") and _slug_words(segment) > 0


def _segment_day(segment: str) -> date | None:
    """A valid day written inside one segment: 2024-05-14, 20240514 or 14-05-2024."""
    for pattern, day_first in ((_ISO_DAY, False), (_COMPACT_DAY, False), (_FRENCH_DAY, True)):
        for m in pattern.finditer(segment):
            first, month, last = (int(g) for g in m.groups())
            year, day = (last, first) if day_first else (first, last)
            try:
                return date(year, month, day)
            except ValueError:
                continue
    return None


def _slug_words(segment: str) -> int:
    return sum(1 for w in _WORDS.findall(segment.replace("_", "-")) if not _is_number(w))


def looks_like_article(url: str, pattern: re.Pattern[str] | None = None) -> bool:
    """Whether a URL looks like an article page, by `pattern` or by the shape of its path."""
    if pattern is not None:
        return re.search(pattern, url) is not None
    u = _parse(url)
    if u is None or u.scheme not in ("http", "https") or not u.host:
        return False
    segments = _without_amp(u.segments)
    if not segments:
        # WordPress shortlinks (/?p=12345) are posts; the bare homepage is not.
        return any(k in ("p", "page_id") and _is_number(v) for k, v in _content_params(u))
    if (
        is_trap(url)
        or _is_media(u)
        or _is_feed(u)
        or any(s in _WP_PATHS for s in segments)
        or _is_static(segments)
        or _is_listing(segments)
        or pagination_number(url) is not None
        or segments[-1] in ("page", "pages")
    ):
        return False
    if _date_slug(segments) or _has_id(segments) or _has_id_param(u):
        return True
    last = segments[-1]
    stem = _file_stem(last)
    if _ID_STEM.match(stem):
        return True
    if _slug_words(stem) >= 4:
        return True
    # /actualites/accord-gazier.html: a named page rather than a section index.
    return u.extension in _PAGE_EXTENSIONS and stem not in _INDEX_NAMES and _slug_words(stem) >= 2


def is_trap(url: str) -> bool:
    """Whether a URL is useless to crawl or can generate endless URLs (search, calendars, …)."""
    if len(url) > _MAX_URL_LENGTH:
        return True
    u = _parse(url)
    if u is None or u.scheme not in ("http", "https"):
        return True  # whatsapp://, mailto:, javascript:…
    segments = u.segments
    params = _content_params(u)
    if len(params) > 2:
        return True
    if any(k in _TRAP_PARAMS for k, _ in params):
        return True
    if any(s in _TRAP_SEGMENTS or s.startswith("comment-page-") for s in segments):
        return True
    if u.host in ("twitter.com", "x.com") and segments[:2] == ["intent", "tweet"]:
        return True
    if u.host == "api.whatsapp.com" and segments[:1] == ["send"]:
        return True
    if "comments" in segments and ("feed" in segments or segments[-1] == "comments"):
        return True
    if "feed" in segments:
        # /feed/ under a post is its comment feed; section and site feeds are fine.
        before = "/".join(segments[: segments.index("feed")])
        if before and looks_like_article(f"{u.scheme}://{u.host}/{before}/"):
            return True
    if _events_with_date(segments):
        return True
    if _repeats(segments):
        return True
    page = pagination_number(url)
    return page is not None and page > _MAX_PAGE


def _events_with_date(segments: list[str]) -> bool:
    if not any(s in _EVENT_SEGMENTS for s in segments):
        return False
    return any(
        _is_year(s) or _segment_day(s) or re.fullmatch(rf"{_YEAR}-\d\d", s) for s in segments
    )


def _repeats(segments: list[str]) -> bool:
    """/a/b/a/b/, /x/x/x/: relative-link loops that never end. Dates (/05/05/) are fine."""
    words = [s for s in segments if not _is_number(s)]
    if any(words.count(s) >= 3 for s in set(words)):
        return True
    n = len(segments)
    for size in range(1, n // 2 + 1):
        for start in range(n - 2 * size + 1):
            block = segments[start : start + size]
            if block == segments[start + size : start + 2 * size] and not all(
                _is_number(s) for s in block
            ):
                return True
    return False


def _home_relative(u: _Url, home: _Url) -> list[str] | None:
    """`u`'s path segments below the homepage's, or None when `u` is on another site/edition.

    An edition's homepage (https://www.aa.com.tr/fr) bounds its hubs to that edition; a
    subdomain (m., fr.) is the same site, but edition paths there are not comparable.
    """
    host, home_host = u.host.removeprefix("www."), home.host.removeprefix("www.")
    if host != home_host:
        if host.endswith("." + home_host) or home_host.endswith("." + host):
            return u.segments
        return None
    home_segments = home.segments
    if home_segments and "." in home_segments[-1]:
        home_segments = home_segments[:-1]  # /index.html, /accueil.php
    if u.segments[: len(home_segments)] != home_segments:
        return None
    return u.segments[len(home_segments) :]


def looks_like_hub(url: str, homepage: str) -> bool:
    """Whether a same-site URL is a listing worth following for links (section, tag, page N)."""
    u, home = _parse(url), _parse(homepage)
    if u is None or home is None or u.scheme not in ("http", "https"):
        return False
    relative = _home_relative(u, home)
    if relative is None:
        return False
    segments = _without_amp(relative)
    if any(k not in _PAGINATION_PARAMS for k, _ in _content_params(u)):
        return False
    if is_trap(url) or looks_like_article(url):
        return False
    if _is_media(u) or _is_feed(u) or _is_static(segments):
        return False
    if any(s in _WP_PATHS for s in segments):
        return False
    listing = _strip_pagination(segments)
    if listing and _file_stem(listing[-1]) in _INDEX_NAMES:
        listing = listing[:-1]  # /politique/index.html is /politique/
    if not listing:
        return pagination_number(url) is not None  # the homepage itself is not a new hub
    if any(s in _LISTING_SEGMENTS for s in listing):
        return True
    if len(listing) > 2:
        return False
    return not any(_is_year(s) or _segment_day(s) or _has_id([s]) for s in listing)


def pagination_number(url: str) -> int | None:
    """N of a paginated listing (/page/N/, ?page=N, ?paged=N, ?p=N, -pN); else None."""
    u = _parse(url)
    if u is None:
        return None
    segments = u.segments
    try:
        for i, segment in enumerate(segments[:-1]):
            if segment in ("page", "pages") and _is_number(segments[i + 1]):
                return int(segments[i + 1])
        params = _content_params(u)
        for key, value in params:
            if key in ("page", "paged") and _is_number(value):
                return int(value)
        # ?p=N is pagination only among pagination parameters, and not at the site root,
        # where WordPress uses it for post ids (/?p=12345).
        if segments and all(k in _PAGINATION_PARAMS for k, _ in params):
            for key, value in params:
                if key == "p" and _is_number(value):
                    return int(value)
        if segments and (m := _PAGE_SUFFIX.search(segments[-1])):
            return int(m.group(1))
        if segments and re.fullmatch(r"p\d+", segments[-1]):
            return int(segments[-1][1:])
    except ValueError:  # more digits than int() accepts
        return None
    return None


def date_in_url(url: str) -> date | None:
    """The publication day a URL's path carries (/2024/05/14/, 20240514, 2024-05-14); None for
    a year or month alone."""
    u = _parse(url)
    if u is None:
        return None
    segments = u.segments
    for i in range(len(segments) - 2):
        year, month, day = segments[i : i + 3]
        if _is_year(year) and _is_small_number(month) and _is_small_number(day):
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                pass
    for segment in segments:
        if found := _segment_day(segment):
            return found
    return None


def _is_small_number(segment: str) -> bool:
    return _is_number(segment) and len(segment) <= 2


def page_is_article(html: str | bytes) -> bool:
    """Whether a page declares itself an article: og:type=article or JSON-LD of an article type."""
    doc = _parse_html(html)
    if doc is None:
        return False
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key == "og:type" and (meta.get("content") or "").strip().lower() == "article":
            return True
    for script in doc.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        data = _load_json_ld(script.text or "")
        if data is not None and _declares_article(data, depth=0):
            return True
    return False


def _load_json_ld(text: str) -> object | None:
    # CMSes wrap JSON-LD in comments or CDATA markers; strict=False allows raw newlines in strings.
    text = text.strip()
    for marker in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        text = text.replace(marker, "")
    text = text.strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _declares_article(node: object, depth: int) -> bool:
    """Look at top-level objects, arrays, @graph and mainEntity — not arbitrary properties,
    which on homepages list other articles (ItemList of NewsArticle)."""
    if depth > 10:
        return False
    if isinstance(node, list):
        return any(_declares_article(item, depth + 1) for item in node)
    if not isinstance(node, dict):
        return False
    types = node.get("@type")
    for value in types if isinstance(types, list) else [types]:
        if isinstance(value, str) and _type_name(value) in _ARTICLE_TYPES:
            return True
    return any(
        _declares_article(node[key], depth + 1) for key in ("@graph", "mainEntity") if key in node
    )


def _type_name(value: str) -> str:
    # "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
    return re.split(r"[/:#]", value.strip())[-1].lower()


# Links are read from the bytes rather than from an lxml tree: parsing a 100 KB page
# costs the crawl process ~8 ms, a scan of its <a>/<area> tags ~0.5 ms, and the page is
# parsed properly once, by the extraction worker. Comments are skipped as a parser would.
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_ANCHOR = re.compile(
    rb"""<(?:a|area)\s[^>]*?(?<=[\s"'])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I
)
_BASE = re.compile(
    rb"""<base\s[^>]*?(?<=[\s"'])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I
)
_NOT_WEB = ("javascript:", "mailto:", "tel:", "data:", "#")


def _attribute(match: re.Match[bytes], encoding: str) -> str:
    return _decoded(match.group(1) or match.group(2) or match.group(3) or b"", encoding)


def _decoded(raw: bytes, encoding: str) -> str:
    value = raw.decode(encoding, "replace").strip()
    return html.unescape(value) if "&" in value else value


def anchor_links(body: bytes, url: str, encoding: str = "utf-8") -> list[str]:
    """The absolute URLs of a page's <a href> and <area href> links, once each, in order.

    Relative links are resolved against the page's <base href>, else its URL.
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    if b"<!--" in body:
        body = _COMMENT.sub(b"", body)
    base = _BASE.search(body)
    base_url = urljoin(url, _attribute(base, encoding)) if base else url
    # Menus and footers repeat links within a page too: resolve each distinct one once.
    hrefs = dict.fromkeys(
        match.group(1) or match.group(2) or match.group(3) or b""
        for match in _ANCHOR.finditer(body)
    )
    seen: dict[str, None] = {}
    for raw in hrefs:
        href = _decoded(raw, encoding)
        if not href or href.lower().startswith(_NOT_WEB):
            continue
        seen.setdefault(urljoin(base_url, href), None)
    return list(seen)
