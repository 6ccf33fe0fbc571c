"""URL canonicalisation: one article, one canonical URL.

`canonical_url` is the form stored and fetched; `url_key` is the looser form used to tell
whether two URLs point at the same page.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote_plus, unquote_plus, unquote_to_bytes, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

__all__ = ["canonical_url", "host_of", "normalize_host", "same_site", "url_key"]

_SCHEMES = {"http": 80, "https": 443}

# Exact parameter names (compared lowercased) that only identify a campaign, a click or a
# share, never the content.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "igshid", "yclid", "_ga", "_gl", "xtor", "ncid", "ocid", "cmpid", "s_cid", "wt_mc",
        "__twitter_impression", "_hsenc", "_hsmi", "mkt_tok", "share", "ref_src", "ref_url",
        "spm", "vero_id",
    }
)  # fmt: skip
# utm_* is Google Analytics; at_* is AT Internet (Piano), common on French outlets.
_TRACKING_PREFIXES = ("utm_", "at_")

# Reserved characters left readable when re-encoding query keys and values; "&", "=", "+",
# "#" and "'" stay encoded because they are structural (or encoded by browsers).
_QUERY_SAFE = "/:@!$()*,;?"

_HOST_RE = re.compile(
    r"(?=.{1,253}\Z)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
    r"(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\Z"
)
# Host labels that only select a mobile or AMP rendering of the same site.
_ALT_HOST_LABELS = frozenset({"m", "mobile", "amp"})
# Removed by browsers anywhere in a URL (WHATWG URL standard); HTML attributes often
# carry them when an href is wrapped over several lines.
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")


def normalize_host(host: str) -> str | None:
    """Lowercase ASCII (IDNA) form of a host name or IP address; None if it is not one."""
    host = host.lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST_RE.match(host) else None


# Both are pure and called for the same URLs over and over (menu links of every page,
# the variants of every stored article): caching them is most of their cost.
@lru_cache(maxsize=8192)
def canonical_url(url: str, base: str | None = None) -> str | None:
    """Canonical http(s) form of `url` (resolved against `base`); None if not http(s)."""
    if not isinstance(url, str):
        return None
    url = url.translate(_TAB_NEWLINE).strip()
    try:
        if base:
            url = urljoin(base.translate(_TAB_NEWLINE).strip(), url)
        if not url or urlsplit(url).scheme.lower() not in _SCHEMES:
            return None
        raw = urlsplit(url)
        host = normalize_host(raw.hostname or "")
        port = raw.port
        # safe_url_string percent-encodes non-ASCII characters in path and query.
        parts = urlsplit(safe_url_string(url))
    except (ValueError, UnicodeError):
        return None
    if host is None:
        return None

    scheme = raw.scheme.lower()
    host = _main_host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _SCHEMES[scheme]:
        netloc = f"{netloc}:{port}"
    # Userinfo is dropped: it never selects content on a news site and must not be archived.

    # canonicalize_url normalises the path (escape case, unreserved escapes, dot segments);
    # the query is handled separately because canonicalize_url would reorder it.
    path = urlsplit(canonicalize_url(urlunsplit(("http", "h", parts.path, "", "")))).path
    path = _strip_amp_path(path)
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


@lru_cache(maxsize=8192)
def url_key(url: str) -> str:
    """De-duplication key: canonical URL without scheme, "www.", trailing slash or param order.

    Input that is not an http(s) URL is returned stripped, so it only equals itself.
    """
    canon = canonical_url(url)
    if canon is None:
        return url.strip()
    parts = urlsplit(canon)
    netloc = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/")
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return f"{netloc}{path}?{query}" if query else f"{netloc}{path}"


def host_of(url: str) -> str:
    """Lowercase host of `url`, without port and leading "www." ("" if it has none)."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    host = normalize_host(host or "")
    return host.removeprefix("www.") if host else ""


def same_site(url: str, domains: Iterable[str]) -> bool:
    """True if the host of `url` is one of `domains` or a subdomain of one."""
    host = host_of(url)
    if not host:
        return False
    for domain in domains:
        domain = (normalize_host(domain.strip()) or "").removeprefix("www.")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def _main_host(host: str) -> str:
    labels = host.split(".")
    # Keep at least two labels so "m.example" style hosts or IP addresses stay intact.
    while len(labels) > 2 and labels[0] in _ALT_HOST_LABELS:
        labels.pop(0)
    return ".".join(labels)


def _strip_amp_path(path: str) -> str:
    if path.startswith("/amp/"):
        path = path[len("/amp") :]
    if path.endswith("/amp"):
        path = path[: -len("/amp")] or "/"
    elif path.endswith("/amp/"):
        # WordPress-style /slug/amp/ → /slug/: the trailing slash belongs to the article URL.
        path = path[: -len("amp/")]
    return path


def _is_dropped_param(key: str, value: str) -> bool:
    key = key.lower()
    if key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES):
        return True
    if key == "amp":
        return value.lower() in ("", "1", "true")
    return key == "outputtype" and value.lower() == "amp"


def _clean_query(query: str) -> str:
    kept = []
    for field in query.split("&"):
        if not field:
            continue
        raw_key, eq, raw_value = field.partition("=")
        if _is_dropped_param(unquote_plus(raw_key), unquote_plus(raw_value)):
            continue
        kept.append(_requote(raw_key) + eq + _requote(raw_value))
    return "&".join(kept)


def _requote(text: str) -> str:
    # Decode to bytes (not str) so non-UTF-8 escapes survive, then encode one consistent way:
    # "a b", "a+b" and "a%20b" all become "a+b".
    return quote_plus(unquote_to_bytes(text.replace("+", " ")), safe=_QUERY_SAFE)


_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def strip_credentials(text: str) -> str:
    """Remove any user:password@ from the URLs in a text (a URL, a log line)."""
    return _CREDENTIALS.sub("", text)
