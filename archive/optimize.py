"""Compact an archive for reading: `python -m archive optimize` (`make optimize`).

FTS5 writes each batch of new articles as a small segment of the full-text index and
merges them a few at a time; a search reads every segment, and a million articles
written by crawls leave about 25. Merging them into one ('optimize') makes every
search read one list per word instead of 25 to merge on the fly. It rewrites the
whole index (minutes, and as much free disk as the index takes, at a million
articles), so it is an occasional step — after a large back-fill or import, or on a
schedule — not part of each crawl. Searches give the same rows before and after.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Optimized:
    segments_before: int
    segments_after: int
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"full-text index: {self.segments_before} segment(s) merged into "
            f"{self.segments_after} in {self.seconds:.1f} s"
        ]


def fts_segments(conn: sqlite3.Connection) -> int:
    """How many segments the articles' full-text index is in."""
    return conn.execute("select count(distinct segid) from articles_fts_idx").fetchone()[0]


def optimize(db_path: str | Path) -> Optimized:
    """Merge the full-text index into one segment."""
    started = time.monotonic()
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        before = fts_segments(conn)
        with conn:
            conn.execute("insert into articles_fts(articles_fts) values ('optimize')")
        # The merged index went through the write-ahead log: fold it back into the file
        # rather than leave a log as large as the index beside it.
        conn.execute("pragma wal_checkpoint(truncate)")
        after = fts_segments(conn)
    finally:
        conn.close()
    return Optimized(before, after, time.monotonic() - started)
