"""Where a search's time goes on the archive bench_archive.py built: the search page's SQL
straight on SQLite, as shipped (a page of 50), without snippets, with 20 rows, and the
third page.

    python bench/search_costs.py [--articles 1000000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from bench_archive import REPEAT, SEED, percentile, query_sets
from corpus import FrenchText

from archive.datasette.plugins.veille_search import (
    FILTERS,
    NO_FILTER,
    SEARCH_COLUMNS,
    SEARCH_PAGE_SIZE,
    SEARCH_SQL,
    WHERE_FILTERS,
)
from archive.optimize import fts_segments
from archive.search import fts_query, search_sql

SNIPPET = "snippet(articles_fts, 1, '<mark>', '</mark>', '…', 30)"


def variants() -> dict[str, tuple[str, str]]:
    """Each variant's SQL and the page it is asked for."""
    assert SNIPPET in SEARCH_COLUMNS, "the search page's snippet changed: update SNIPPET"
    plain = SEARCH_COLUMNS.replace(SNIPPET, "''")
    page = ":page"
    return {
        "as shipped": (SEARCH_SQL, "1"),
        "no snippets": (
            search_sql(
                plain, "veille_fts(:q)", WHERE_FILTERS, NO_FILTER, SEARCH_PAGE_SIZE, page=page
            ),
            "1",
        ),
        "20 rows": (
            search_sql(SEARCH_COLUMNS, "veille_fts(:q)", WHERE_FILTERS, NO_FILTER, 20, page=page),
            "1",
        ),
        "page 3": (SEARCH_SQL, "3"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    path = common.DATA / f"archive-{args.articles}.db"
    if not path.exists():
        print(f"{path} does not exist: run bench/bench_archive.py --articles {args.articles}")
        return 2
    print(f"Machine: {common.machine()}")
    queries = query_sets(FrenchText(seed=SEED))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.create_function("veille_fts", 1, fts_query, deterministic=True)
    print(f"{args.articles:,} articles; FTS5 index in {fts_segments(conn)} segments")
    for sort in ("date", "relevance"):
        for kind in ("word", "phrase", "prefix", "and"):
            for label, (sql, page) in variants().items():
                timings = []
                for attempt in range(REPEAT + 1):
                    for q in queries[kind]:
                        params = {name: "" for name in FILTERS} | {"q": q, "sort": sort}
                        params["page"] = page
                        started = time.perf_counter()
                        conn.execute(sql, params).fetchall()
                        if attempt:  # the first pass warms the cache, untimed
                            timings.append((time.perf_counter() - started) * 1000)
                print(
                    f"  {sort:<9} {kind:<6} {label:<11} p50 {percentile(timings, 50):7.1f} ms"
                    f"  p95 {percentile(timings, 95):7.1f} ms",
                    flush=True,
                )
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
