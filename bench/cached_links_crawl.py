"""`python -m crawler` with the spider's per-link URL work memoised: an experiment.

    python bench/cached_links_crawl.py [crawler arguments...]

Every article page of a news site links to the same menus, sidebars and footers, so
the spider canonicalises and judges the same ~100 URLs on every page (see
docs/benchmarks.md, "What the profile shows"). This launcher wraps the pure
functions involved (`canonical_url`, `url_key`, `is_trap`, `looks_like_article`)
in LRU caches before the crawl starts, without changing the spider, to measure
what such a change would buy (bench_crawl.py --experiments).
"""

from __future__ import annotations

import functools
import sys


def main() -> int:
    import archive.urls as urls
    import crawler.discovery.links as links
    import crawler.spiders.outlets as outlets

    for module, names in (
        (urls, ("canonical_url", "url_key")),
        (links, ("is_trap", "looks_like_article")),
    ):
        for name in names:
            cached = functools.lru_cache(maxsize=100_000)(getattr(module, name))
            setattr(module, name, cached)
            if hasattr(outlets, name):
                setattr(outlets, name, cached)
    import crawler.__main__ as entry

    return entry.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
