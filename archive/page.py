"""The raw page: what a crawler (or a WARC import) hands to the archive.

This is the one narrow contract between the crawler and the archive. It holds
plain Python values only, so a page can cross a process boundary or a queue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# What the crawler fetched the page for. Only "article" pages are extracted;
# the others are recorded as fetches (they are how articles were discovered).
ROLES = ("article", "recheck", "hub", "feed", "sitemap", "robots", "homepage", "api")


@dataclass
class RawPage:
    url: str  # the URL requested (already canonicalised by the crawler)
    outlet: str  # outlet slug
    role: str  # one of ROLES
    fetched_at: str  # ISO 8601, UTC
    final_url: str | None = None  # after redirects
    status: int | None = None  # HTTP status; None when no response arrived
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # why the fetch failed (timeout, DNS, too large, ...)
    found_via: str = ""  # "feed", "sitemap", "news-sitemap", "section", "homepage", ...
    hint_title: str | None = None  # from the feed or sitemap that listed the URL
    hint_published: str | None = None  # ISO 8601, from the feed or sitemap
    elapsed_ms: int | None = None
    request_headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawPage:
        return cls(**data)

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        return None
