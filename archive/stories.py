"""Syndication: the same story across outlets (and within one), found with MinHash LSH.

Outlets republish wire copy and each other's articles with small edits: a new
headline, an intro or credit line of their own, a sentence cut or added. Such
near-duplicates share most of their 5-word shingles, so their Jaccard similarity
stays high while unrelated articles share almost none.

How it scales to millions of articles without holding an index in memory:

- each article is signed once: a MinHash of its text's shingles (datasketch,
  128 permutations, 512 bytes) kept in `article_minhash`;
- the signature is cut into b bands of r rows, b and r chosen for the threshold
  exactly as datasketch's MinHashLSH chooses them (threshold 0.6: 18 bands of 7
  rows); each band's hash is a row of `lsh_bands`, an indexed SQLite table
  (per million articles: about 0.3 GB of bands and 0.6 GB of signatures, next to
  some 10 GB of text and full-text index; grouping runs at about 2,000 articles/s);
- a new article's candidates are the articles sharing one of its band hashes (one
  indexed lookup), kept only if their estimated Jaccard similarity (the share of
  equal signature values) reaches the threshold;
- story ids are assigned incrementally: the article joins the story of what it
  matches, starts one with them, or merges the stories it bridges. An article
  that matches nothing keeps `story_id` empty: a story has two articles or more.

`group_stories(db)` processes every article not yet signed, so running it again
changes nothing; a crawl calls it at the end of each run, and `python -m archive
stories` runs it by hand. The threshold is a property of the archive: changing it
regroups every article from the stored signatures (no text is read again).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:
    import numpy as np

DEFAULT_THRESHOLD = 0.6
NUM_PERM = 128  # estimation error of a 0.6 similarity ≈ ±0.04 (one standard deviation)
SEED = 1
SCHEME = "affine32"  # datasketch 2's default: uint32 values, 4 bytes each
SHINGLE_WORDS = 5  # long enough that unrelated French articles share almost no shingle
MIN_WORDS = 50  # below that, boilerplate-sized texts (briefs, captions) look alike
BATCH = 500  # articles per transaction
# Bumped whenever the text → signature recipe changes: stored signatures are then redone.
SIGNATURE_VERSION = 1

WORD = re.compile(r"\w+")


def normalise(text: str) -> list[str]:
    """The words of a text, lowercased and with accents folded.

    Accents are folded because republishers and wire services do not keep them
    consistently (Erevan / Érevan, capitals typed without accents, transliterated
    names), and a shingle that differs by one accent would count as a different
    shingle. Full-text search folds them too. Apostrophes and punctuation split
    words, so l’inflation and l'inflation read the same.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return WORD.findall(folded)


def shingles(words: list[str], size: int = SHINGLE_WORDS) -> set[bytes]:
    """The set of `size`-word shingles of a list of words."""
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


@lru_cache(maxsize=1)
def _permutations() -> Any:
    from datasketch import MinHash  # imported here: datasketch and scipy take a second to load

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def sign(text: str | None) -> tuple[np.ndarray | None, int]:
    """(MinHash signature, word count) of an article's text; no signature under MIN_WORDS."""
    from datasketch import MinHash

    words = normalise(text or "")
    if len(words) < MIN_WORDS:
        return None, len(words)
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())
    minhash.update_batch(sorted(shingles(words)))
    return minhash.hashvalues, len(words)


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) for a threshold, as datasketch's MinHashLSH chooses them: the split
    minimising the weighted false-positive and false-negative probabilities."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_hashes(values: np.ndarray, bands: int, rows: int) -> list[int]:
    """One 64-bit hash per band (signed, to fit an SQLite integer); the band's number is
    hashed in so that equal values in different bands never meet."""
    hashes = []
    for band in range(bands):
        chunk = values[band * rows : (band + 1) * rows].astype("<u4").tobytes()
        digest = hashlib.blake2b(struct.pack("<H", band) + chunk, digest_size=8).digest()
        hashes.append(int.from_bytes(digest, "little", signed=True))
    return hashes


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    import numpy as np

    return float(np.count_nonzero(a == b)) / len(a)


def to_blob(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(blob, dtype="<u4")


# -- schema -----------------------------------------------------------------------


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Tables of story grouping (called by archive.store.ensure_schema; additive only)."""
    if "story_id" in db["articles"].columns_dict and not any(
        index.columns == ["story_id"] for index in db["articles"].indexes
    ):
        db["articles"].create_index(["story_id"], if_not_exists=True)
    db.execute(
        "create table if not exists article_minhash ("
        " article_id integer primary key references articles(id),"
        " signature blob,"  # NULL: too short to be part of a story
        " words integer,"
        " signed_at text)"
    )
    # The LSH index: WITHOUT ROWID so the primary key is the only copy of the data.
    db.execute(
        "create table if not exists lsh_bands ("
        " band_hash integer not null,"
        " article_id integer not null,"
        " primary key (band_hash, article_id)) without rowid"
    )
    db["stories"].create(
        {
            "id": int,
            "title": str,  # headline of the first article
            "first_article_id": int,
            "first_outlet": str,
            "first_published": str,
            "last_published": str,
            "outlets": str,  # JSON list, in order of first publication
            "outlet_count": int,
            "articles": int,
            "updated": str,
        },
        pk="id",
        if_not_exists=True,
    )
    indexes = [index.columns for index in db["stories"].indexes]
    if ["outlet_count", "first_published"] not in indexes:
        db["stories"].create_index(["outlet_count", "first_published"], if_not_exists=True)
    db["story_settings"].create({"key": str, "value": str}, pk="key", if_not_exists=True)


# -- grouping ---------------------------------------------------------------------


@dataclass
class Summary:
    """What a run of `group_stories` did."""

    threshold: float
    bands: int
    rows: int
    processed: int = 0  # articles looked at
    signed: int = 0  # of which long enough to get a signature
    too_short: int = 0  # of which under MIN_WORDS words
    joined: int = 0  # articles that joined an existing story
    new_stories: int = 0
    merged: int = 0  # stories merged into another because an article matched both
    regrouped: str = ""  # why every article was regrouped, if it was
    regrouped_articles: int = 0  # articles placed again from their stored signatures
    stories: int = 0  # stories in the archive after the run
    multi_outlet: int = 0  # of which carried by two or more outlets
    seconds: float = 0.0

    def lines(self) -> list[str]:
        lsh = f"threshold {self.threshold:g}: {self.bands} bands × {self.rows} rows"
        lines = []
        if self.regrouped:
            lines.append(
                f"Regrouped every article ({self.regrouped}): {self.regrouped_articles} from "
                "their stored signatures."
            )
        if not self.processed:
            lines.append(f"Stories: no new article to group ({lsh}).")
        else:
            lines.append(
                f"Stories: {self.processed} article{'s' if self.processed != 1 else ''} "
                f"processed in {self.seconds:.1f} s ({lsh}); {self.too_short} too short "
                f"(< {MIN_WORDS} words)."
            )
            lines.append(
                f"  joined a story {self.joined}, started {self.new_stories} "
                f"stor{'ies' if self.new_stories != 1 else 'y'}, merged {self.merged}"
            )
        lines.append(
            f"  {self.stories} stor{'ies' if self.stories != 1 else 'y'} in the archive, "
            f"{self.multi_outlet} carried by two or more outlets"
        )
        return lines


def group_stories(
    db: str | Path | sqlite_utils.Database, threshold: float | None = None
) -> Summary:
    """Group every article not yet processed into stories; returns what was done.

    `threshold` (estimated Jaccard similarity of 5-word shingles, 0 < t < 1) defaults
    to the archive's current one, else DEFAULT_THRESHOLD. Idempotent. Takes no lock:
    the caller holds the archive's writer lock (a crawl, or `python -m archive stories`).
    """
    if isinstance(db, sqlite_utils.Database):
        return _Grouper(db, threshold).run()
    from archive.store import open_db  # here: archive.store calls ensure_schema above

    database = open_db(db)
    try:
        return _Grouper(database, threshold).run()
    finally:
        database.conn.close()


class _Grouper:
    def __init__(self, db: sqlite_utils.Database, threshold: float | None):
        ensure_schema(db)
        self.db = db
        settings = dict(db.execute("select key, value from story_settings").fetchall())
        if threshold is None:
            threshold = float(settings.get("threshold", DEFAULT_THRESHOLD))
        if not 0 < threshold < 1:
            raise ValueError(f"the threshold must be between 0 and 1 (excluded), got {threshold}")
        self.threshold = threshold
        self.bands, self.rows = lsh_params(threshold)
        self.settings = settings
        self.summary = Summary(threshold, self.bands, self.rows)
        self.touched: set[int] = set()

    def wanted_settings(self) -> dict[str, str]:
        return {
            "signature": json.dumps(
                [SIGNATURE_VERSION, NUM_PERM, SEED, SCHEME, SHINGLE_WORDS, MIN_WORDS]
            ),
            "threshold": repr(self.threshold),
            "bands": str(self.bands),
            "rows": str(self.rows),
        }

    def run(self) -> Summary:
        started = time.monotonic()
        wanted = self.wanted_settings()
        with self.db.conn:
            if self.settings and self.settings.get("signature") != wanted["signature"]:
                self.summary.regrouped = "the signature recipe changed"
                self._reset(signatures=True)
            elif self.settings and (
                self.settings.get("bands"),
                self.settings.get("rows"),
                self.settings.get("threshold"),
            ) != (wanted["bands"], wanted["rows"], wanted["threshold"]):
                self.summary.regrouped = (
                    f"threshold {float(self.settings.get('threshold', 0)):g} → {self.threshold:g}"
                )
                self._reset(signatures=False)
                self._place_all(self._stored_signatures())
            self.db["story_settings"].upsert_all(
                [{"key": key, "value": value} for key, value in wanted.items()], pk="key"
            )
        self._place_all(self._new_articles())
        totals = self.db.execute(
            "select count(*), coalesce(sum(outlet_count >= 2), 0) from stories"
        ).fetchone()
        self.summary.stories, self.summary.multi_outlet = totals
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _reset(self, signatures: bool) -> None:
        """Forget the bands and stories (and the signatures, if their recipe changed)."""
        self.db.execute("delete from lsh_bands")
        self.db.execute("delete from stories")
        self.db.execute("update articles set story_id = null where story_id is not null")
        if signatures:
            self.db.execute("delete from article_minhash")

    def _stored_signatures(self) -> Iterator[list[tuple[int, np.ndarray | None, None]]]:
        last = 0
        while True:
            rows = self.db.execute(
                "select article_id, signature from article_minhash "
                "where signature is not null and article_id > ? order by article_id limit ?",
                [last, BATCH],
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(article_id, from_blob(blob), None) for article_id, blob in rows]

    def _new_articles(self) -> Iterator[list[tuple[int, np.ndarray | None, int]]]:
        last = 0
        while True:
            rows = self.db.execute(
                "select articles.id, articles.text from articles "
                "left join article_minhash on article_minhash.article_id = articles.id "
                "where article_minhash.article_id is null and articles.id > ? "
                "order by articles.id limit ?",
                [last, BATCH],
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(article_id, *sign(text)) for article_id, text in rows]

    def _place_all(self, batches: Iterable[list[tuple[int, Any, int | None]]]) -> None:
        for batch in batches:
            with self.db.conn:  # one transaction per batch
                for article_id, values, words in batch:
                    if words is None:
                        self.summary.regrouped_articles += 1
                    else:  # a new article: remember it was processed
                        self.summary.processed += 1
                        self.db.execute(
                            "insert or replace into article_minhash "
                            "(article_id, signature, words, signed_at) values (?, ?, ?, ?)",
                            [
                                article_id,
                                to_blob(values) if values is not None else None,
                                words,
                                _now(),
                            ],
                        )
                    if values is None:
                        self.summary.too_short += 1
                        continue
                    if words is not None:
                        self.summary.signed += 1
                    self._place(article_id, values)
                self._refresh(self.touched)
                self.touched.clear()

    def _place(self, article_id: int, values: np.ndarray) -> None:
        hashes = band_hashes(values, self.bands, self.rows)
        marks = ",".join("?" * len(hashes))
        candidates = [
            row[0]
            for row in self.db.execute(
                f"select distinct article_id from lsh_bands where band_hash in ({marks})",
                hashes,
            )
            if row[0] != article_id
        ]
        matches: list[tuple[int, int | None]] = []
        if candidates:
            marks = ",".join("?" * len(candidates))
            for other, blob, story in self.db.execute(
                "select article_minhash.article_id, article_minhash.signature, articles.story_id "
                "from article_minhash join articles on articles.id = article_minhash.article_id "
                f"where article_minhash.article_id in ({marks})",
                candidates,
            ):
                if blob is not None and similarity(values, from_blob(blob)) >= self.threshold:
                    matches.append((other, story))
        self.db.conn.executemany(
            "insert or ignore into lsh_bands (band_hash, article_id) values (?, ?)",
            [(band_hash, article_id) for band_hash in hashes],
        )
        if matches:
            self._join(article_id, matches)

    def _join(self, article_id: int, matches: list[tuple[int, int | None]]) -> None:
        stories = {story for _, story in matches if story is not None}
        loose = [other for other, story in matches if story is None]
        if stories:
            target = min(stories)  # the oldest story keeps its id
            others = sorted(stories - {target})
            if others:
                marks = ",".join("?" * len(others))
                self.db.execute(
                    f"update articles set story_id = ? where story_id in ({marks})",
                    [target, *others],
                )
                self.db.execute(f"delete from stories where id in ({marks})", others)
                self.touched.difference_update(others)
                self.summary.merged += len(others)
            self.summary.joined += 1
        else:
            cursor = self.db.execute("insert into stories (updated) values (?)", [_now()])
            target = cursor.lastrowid
            self.summary.new_stories += 1
        members = [*loose, article_id]
        marks = ",".join("?" * len(members))
        self.db.execute(
            f"update articles set story_id = ? where id in ({marks})", [target, *members]
        )
        self.touched.add(target)

    def _refresh(self, story_ids: Iterable[int]) -> None:
        """Recompute the summary row of each story whose members changed."""
        for story_id in sorted(story_ids):
            members = self.db.execute(
                "select id, outlet, title, published, first_seen from articles where story_id = ?",
                [story_id],
            ).fetchall()
            if not members:
                self.db.execute("delete from stories where id = ?", [story_id])
                continue
            members.sort(key=lambda row: (_instant(row[3]) or _instant(row[4]) or "~", row[0]))
            first = members[0]
            outlets = list(dict.fromkeys(row[1] for row in members))
            latest = max(members, key=lambda row: _instant(row[3]) or _instant(row[4]) or "")
            self.db["stories"].upsert(
                {
                    "id": story_id,
                    "title": first[2],
                    "first_article_id": first[0],
                    "first_outlet": first[1],
                    "first_published": first[3] or first[4],
                    "last_published": latest[3] or latest[4],
                    "outlets": json.dumps(outlets, ensure_ascii=False),
                    "outlet_count": len(outlets),
                    "articles": len(members),
                    "updated": _now(),
                },
                pk="id",
            )


def _instant(value: str | None) -> str | None:
    """An ISO 8601 date as a comparable UTC string: outlets write their own offsets, so
    10:30+01:00 is later than 11:45+03:00."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
