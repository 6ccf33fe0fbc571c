"""Search at scale: build an N-article archive through the write path, then time Datasette.

    python bench/bench_archive.py [--articles 1000000] [--port 8791] [--rebuild] [--build-only]

1. Build (once, cached as data/bench/archive-N.db): N articles of 300–900 words of
   generated French (bench/corpus.py: Zipf-distributed words, topics) from 12 outlets, written
   with `Archive.store_many` — the crawl's own write path: article, URL variants,
   version 1, fetch row, FTS5 kept by triggers — in the order a monitor would have
   archived them: each outlet's history back-filled when it was added (the last one
   90 days before the end), then its new articles as they appeared. The write rate
   is printed next to a plain sqlite-utils `insert_all` of the same rows into a
   table with no index and no FTS (the baseline), both measured on the first
   20,000 articles in this run, and the whole build's rate and size.
2. Latency: `python -m archive serve` (the real Datasette, with the project's
   metadata and plugins) on the archive, and a bounded client (one request at a
   time): for every kind of query, a fixed set of queries drawn from the corpus's own
   word frequencies; one untimed pass to warm the cache, then five timed passes; p50
   and p95 per endpoint. The search endpoints of one kind of query are timed in turn,
   query by query, so the ratios between them compare requests made under the same
   conditions.

Endpoints: the search page's JSON (`/DB/search.json`: relevance, `sort=date`, and its
third page), the Atom feed of a search, the raw FTS5 ranking of the same page that
relevance is compared with (through Datasette's SQL API, `/DB.json?sql=`), Datasette's
own table search (`/DB/articles.json?_search=`), the article page and the home page
with its outlets.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from corpus import FrenchText

from archive.datasette.plugins.veille_search import SEARCH_PAGE_SIZE
from archive.extract import Extracted
from archive.ingest import Archive, Prepared, article_fields
from archive.page import RawPage
from archive.seeds import load_seeds

FORMAT = 2  # bump when the generated archive changes, so cached ones are rebuilt
SEED = 20240630
END = datetime(2024, 6, 30, 20, 0, tzinfo=UTC)
START = datetime(2019, 1, 1, tzinfo=UTC)
OUTLETS = [  # slug, share of the articles
    ("turquie2023", 0.20),
    ("trt-francais", 0.16),
    ("aa-francais", 0.14),
    ("bosphore-quotidien", 0.10),
    ("ankara-post", 0.08),
    ("istanbul-matin", 0.07),
    ("caucase-info", 0.06),
    ("levant-hebdo", 0.05),
    ("anatolie-eco", 0.05),
    ("mer-noire-actu", 0.04),
    ("balkans-direct", 0.03),
    ("egee-journal", 0.02),
]
AUTHORS = ["Claire Dumas", "Mehmet Yılmaz", "Sophie Laurent", "Ayşe Demir", "Julien Moreau"]
CREDITS = [None, None, None, None, ["Anadolu"], ["AFP"], ["TRT"]]
SECTIONS = ["politique", "economie", "diplomatie", "societe", "culture", "sport", "energie"]
BATCH = 500  # pages per store_many call: what a writer draining a queue would take
RUN_EVERY = 20_000  # a new crawl run every so many articles
SAMPLE = 20_000  # articles of the write-rate comparison
QUERIES_PER_KIND = 20
REPEAT = 5


# -- the archive's contents ------------------------------------------------------------


def seeds_file(folder: Path) -> Path:
    lines = []
    for slug, _ in OUTLETS:
        lines += [
            "[[outlet]]",
            f'slug = "{slug}"',
            f'name = "{slug.replace("-", " ").title()}"',
            f'homepage = "https://{slug}.example/"',
            'language = "fr"',
            "",
        ]
    path = folder / "bench-outlets.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def timeline(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(outlet, published, first_seen) as epoch seconds, in archiving order."""
    rng = np.random.default_rng(SEED)
    start, end = START.timestamp(), END.timestamp()
    span = end - start
    shares = np.array([share for _, share in OUTLETS])
    counts = np.floor(shares / shares.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    # Outlets were added to the monitor over its first two years, the last one
    # 90 days before the end: each addition back-fills the outlet's whole history.
    joins = np.sort(rng.uniform(start, start + 0.4 * span, size=len(OUTLETS)))
    joins[-1] = end - 90 * 86400
    outlet = np.repeat(np.arange(len(OUTLETS)), counts)
    published = rng.uniform(start, end, size=n)
    join = joins[outlet]
    backfilled = published < join
    first_seen = np.where(
        backfilled,
        join + rng.uniform(0, 2 * 86400, size=n),  # the back-fill crawl took a day or two
        published + rng.uniform(300, 3 * 3600, size=n),  # found by the next crawl
    )
    first_seen = np.minimum(first_seen, end)
    order = np.argsort(first_seen, kind="stable")
    return outlet[order], published[order], first_seen[order]


def _iso(epoch: float, offset_hours: int = 0) -> str:
    moment = datetime.fromtimestamp(int(epoch), UTC)
    if offset_hours:
        return moment.astimezone(timedelta_zone(offset_hours)).isoformat()
    return moment.isoformat()


def timedelta_zone(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def _texts(args: tuple[int, int]) -> list[tuple[str, list[str], int, list[int]]]:
    """Articles start..stop of the corpus: run in a helper process, one chunk at a time."""
    start, stop = args
    text = _TEXT if _TEXT is not None else FrenchText(seed=SEED)
    text.rng = np.random.default_rng([SEED, start])
    out = []
    for _ in range(start, stop):
        # ~600 words on average: a wire story or a short report, most of a news archive.
        article = text.article(words=int(text.rng.integers(300, 901)))
        out.append((article.title, article.paragraphs, article.words, article.topics))
    return out


_TEXT: FrenchText | None = None


def _init_text() -> None:
    global _TEXT
    _TEXT = FrenchText(seed=SEED)


def articles(n: int, chunk: int = 2000) -> Iterator[tuple[int, tuple]]:
    """(index, text) for every article, generated in a helper process (the second core)."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(1, initializer=_init_text) as pool:
        chunks = [(i, min(i + chunk, n)) for i in range(0, n, chunk)]
        index = 0
        for texts in pool.imap(_texts, chunks):
            for item in texts:
                yield index, item
                index += 1


def prepared(index: int, text: tuple, outlet: int, published: float, first_seen: float) -> Prepared:
    title, paragraphs, words, topics = text
    slug, _ = OUTLETS[outlet]
    pub = _iso(published, 3)  # the outlets publish in Turkey's time zone
    seen = _iso(first_seen)
    words_of_slug = "-".join(title.lower().split()[:6])
    url = f"https://{slug}.example/{pub[:10].replace('-', '/')}/{words_of_slug}-{index}/"
    rnd = random.Random(index)
    body = "\n".join(paragraphs)
    ex = Extracted(
        is_article=True,
        title=title,
        text=body,
        published=pub,
        published_source="json-ld",
        authors=[rnd.choice(AUTHORS)],
        credits=rnd.choice(CREDITS) or [],
        description=body[:200],
        sitename=slug,
        categories=[rnd.choice(SECTIONS)],
        tags=[f"sujet-{t}" for t in topics],
        image=f"https://{slug}.example/img/{index}.jpg",
        language="fr",
        language_source="page",
        canonical=url,
        page_type="article",
        word_count=words,
        encoding="utf-8",
    )
    for name, value in (("language_confidence", 0.99), ("warnings", [])):
        if hasattr(ex, name):
            setattr(ex, name, value)
    page = RawPage(
        url=url,
        outlet=slug,
        role="article",
        fetched_at=seen,
        final_url=url,
        status=200,
        headers={"Content-Type": "text/html; charset=UTF-8"},
        body=b"",
        found_via="sitemap",
        elapsed_ms=int(40 + rnd.random() * 200),
    )
    return Prepared(page, extracted=ex)


def build(path: Path, n: int, progress: bool = True) -> dict:
    """Write n articles through Archive.store_many; returns the build's figures."""
    common.fresh(path)
    outlets = load_seeds(seeds_file(path.parent))
    archive = Archive(path, outlets)
    outlet_of, published, first_seen = timeline(n)
    started = time.monotonic()
    run_id = None
    batch: list[Prepared] = []
    last_report = started
    for index, text in articles(n):
        if index % RUN_EVERY == 0:
            if batch:
                archive.store_many(batch, run_id)
                batch = []
            if run_id is not None:
                archive.finish_run(run_id, "finished", _counts(archive))
            run_id = archive.start_run([slug for slug, _ in OUTLETS])
        batch.append(
            prepared(index, text, int(outlet_of[index]), published[index], first_seen[index])
        )
        if len(batch) >= BATCH:
            archive.store_many(batch, run_id)
            batch = []
        now = time.monotonic()
        if progress and now - last_report > 30:
            last_report = now
            rate = index / (now - started)
            eta = (n - index) / rate if rate else 0
            print(
                f"  build: {index:,} articles, {rate:.0f}/s, about {eta / 60:.0f} min left",
                flush=True,
            )
    if batch:
        archive.store_many(batch, run_id)
    archive.finish_run(run_id, "finished", _counts(archive))
    seconds = time.monotonic() - started
    archive.db.execute("pragma wal_checkpoint(truncate)")
    archive.close()
    return {"articles": n, "seconds": seconds, "rate": n / seconds, "bytes": size_of(path)}


def _counts(archive: Archive):
    from archive.ingest import RunCounts

    return RunCounts(fetched=sum(archive.outcomes.values()), archived=archive.outcomes["archived"])


def size_of(path: Path) -> int:
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def write_rates(folder: Path) -> dict:
    """store_many against plain insert_all on the same first SAMPLE articles."""
    import sqlite_utils

    outlet_of, published, first_seen = timeline(SAMPLE)
    items = [
        prepared(i, text, int(outlet_of[i]), published[i], first_seen[i])
        for i, text in articles(SAMPLE)
    ]
    rows = [
        {
            "url": p.page.url,
            "outlet": p.page.outlet,
            **article_fields(p.extracted),
            "found_via": p.page.found_via,
            "first_seen": p.page.fetched_at,
            "last_seen": p.page.fetched_at,
        }
        for p in items
    ]
    plain = common.fresh(folder / "plain-insert.db")
    db = sqlite_utils.Database(plain)
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    started = time.monotonic()
    for start in range(0, len(rows), BATCH):
        db["articles"].insert_all(rows[start : start + BATCH])
    plain_rate = len(rows) / (time.monotonic() - started)
    db.close()
    ours = common.fresh(folder / "store-many.db")
    archive = Archive(ours, load_seeds(seeds_file(folder)))
    run_id = archive.start_run([slug for slug, _ in OUTLETS])
    started = time.monotonic()
    for start in range(0, len(items), BATCH):
        archive.store_many(items[start : start + BATCH], run_id)
    ours_rate = len(items) / (time.monotonic() - started)
    archive.close()
    for path in (plain, ours):
        common.fresh(path)
    return {"plain": plain_rate, "store_many": ours_rate}


# -- queries ---------------------------------------------------------------------------


def query_sets(text: FrenchText) -> dict[str, list[str]]:
    """Queries of each kind, drawn from the corpus's own frequency ranks."""
    rng = random.Random(SEED)
    vocab = [str(w) for w in text.vocabulary]
    # Words only (no elided forms or numbers), with accents as people type them.
    usable = [i for i, w in enumerate(vocab) if w.isalpha() and len(w) >= 4]

    def band(low: int, high: int, k: int) -> list[str]:
        pool = [vocab[i] for i in usable if low <= i < high]
        return rng.sample(pool, k)

    common_words = band(60, 600, QUERIES_PER_KIND // 2)
    rare_words = band(3000, 40000, QUERIES_PER_KIND // 2)
    phrases = []
    text.rng = np.random.default_rng(SEED + 1)
    while len(phrases) < QUERIES_PER_KIND:
        tokens = text.article(words=200).paragraphs[0].rstrip(".").split()
        at = rng.randrange(len(tokens) - 1)
        a, b = tokens[at], tokens[at + 1]
        if a.isalpha() and b.isalpha() and len(a) > 3 and len(b) > 3:
            phrases.append(f'"{a.lower()} {b.lower()}"')
    prefixes = [w[:5] + "*" for w in band(200, 8000, QUERIES_PER_KIND) if len(w) >= 7]
    prefixes += [w[:5] + "*" for w in band(200, 8000, 40) if len(w) >= 7]
    prefixes = list(dict.fromkeys(prefixes))[:QUERIES_PER_KIND]
    pairs = []
    for topic in rng.sample(range(len(text.topics)), QUERIES_PER_KIND):
        a, b = (vocab[int(i)] for i in rng.sample(list(text.topics[topic]), 2))
        pairs.append(f"{a} {b}")
    return {
        "word": common_words + rare_words,
        "phrase": phrases,
        "prefix": prefixes,
        "and": pairs,
    }


# The same page of best matches, as FTS5 ranks them and nothing more.
RAW_RELEVANCE_SQL = f"""select rowid, rank from articles_fts where articles_fts match veille_fts(:q)
order by rank limit {SEARCH_PAGE_SIZE}"""


def direct_latencies(path: Path, queries: dict[str, list[str]]) -> list[dict]:
    """The same SQL run straight on SQLite (no HTTP, no Datasette): what serving adds to."""
    import sqlite3

    from archive.datasette.plugins.veille_search import FILTERS, SEARCH_SQL
    from archive.search import fts_query

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.create_function("veille_fts", 1, fts_query, deterministic=True)
    statements = {
        "relevance, search page SQL": (SEARCH_SQL, True),
        "relevance, raw FTS5 rank": (RAW_RELEVANCE_SQL, False),
    }
    results = []
    for kind, qs in queries.items():
        for label, (statement, filters) in statements.items():
            timings = []
            for attempt in range(REPEAT + 1):
                for q in qs:
                    params = {name: "" for name in (*FILTERS, "page")} if filters else {}
                    params["q"] = q
                    started = time.perf_counter()
                    conn.execute(statement, params).fetchall()
                    if attempt:  # the first pass warms the cache, untimed
                        timings.append((time.perf_counter() - started) * 1000)
            row = {
                "endpoint": f"{label} (SQLite, no server): {kind}",
                "kind": kind,
                "requests": len(timings),
                "p50": percentile(timings, 50),
                "p95": percentile(timings, 95),
                "errors": 0,
            }
            results.append(row)
            print(
                f"  {row['endpoint']:<58} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms",
                flush=True,
            )
    conn.close()
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Client:
    """A bounded client: one request at a time, a timeout, no retries."""

    def __init__(self, base: str):
        import httpx

        self.http = httpx.Client(base_url=base, timeout=30)

    def time(self, path: str, params: dict | None = None) -> tuple[float, int]:
        started = time.perf_counter()
        response = self.http.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, response.status_code


def latencies(path: Path, port: int, text: FrenchText) -> list[dict]:
    name = path.stem
    server = subprocess.Popen(
        [common.PYTHON, "-m", "archive", "serve", "--db", str(path), "--port", str(port)],
        cwd=common.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results = []
    try:
        _wait_for(port)
        client = Client(f"http://127.0.0.1:{port}")
        queries = query_sets(text)
        import sqlite3

        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        (max_id,) = conn.execute("select max(id) from articles").fetchone()
        conn.close()
        rng = random.Random(SEED)
        ids = [rng.randint(1, max_id) for _ in range(QUERIES_PER_KIND * 2)]

        def sql(statement: str, q: str, **params: str) -> tuple[str, dict]:
            return f"/{name}.json", {"sql": statement, "q": q, "_shape": "array", **params}

        # Each kind's search lines are timed query by query in turn (interleaved), so a
        # ratio between two of them compares requests made under the same conditions.
        # Datasette's own table search, whose common words run into the time limit, and
        # the pages are timed apart, after them.
        interleaved: list[tuple[str, str, list]] = []
        apart: list[tuple[str, str, list]] = []
        for kind, qs in queries.items():
            interleaved += [
                (
                    f"newest first, search page (sort=date): {kind}",
                    kind,
                    [
                        (f"/{name}/search.json", {"q": q, "sort": "date", "_shape": "array"})
                        for q in qs
                    ],
                ),
                (
                    f"newest first, search page 3 (sort=date&page=3): {kind}",
                    kind,
                    [
                        (
                            f"/{name}/search.json",
                            {"q": q, "sort": "date", "page": "3", "_shape": "array"},
                        )
                        for q in qs
                    ],
                ),
                (
                    f"newest first, Atom feed of the search: {kind}",
                    kind,
                    [(f"/{name}/feed.atom", {"q": q}) for q in qs],
                ),
                (
                    f"relevance, search page: {kind}",
                    kind,
                    [(f"/{name}/search.json", {"q": q, "_shape": "array"}) for q in qs],
                ),
                (
                    f"relevance, raw FTS5 rank: {kind}",
                    kind,
                    [sql(RAW_RELEVANCE_SQL, q) for q in qs],
                ),
            ]
            apart.append(
                (
                    f"newest first, table search (_search): {kind}",
                    kind,
                    [
                        (f"/{name}/articles.json", {"_search": q, "_shape": "array", "_size": 50})
                        for q in qs
                    ],
                )
            )
        apart.append(("article page", "page", [(f"/{name}/articles/{i}", None) for i in ids]))
        apart.append(("home page (outlets)", "page", [(f"/{name}", None)] * 10))
        for kind in queries:
            lines = [line for line in interleaved if line[1] == kind]
            results += time_lines(client, lines)
        for line in apart:
            results += time_lines(client, [line])
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def time_lines(client: Client, lines: list[tuple[str, str, list]]) -> list[dict]:
    """Time the lines' requests in turn, request by request: one untimed pass to warm the
    cache, then REPEAT timed passes, each starting its round with the next line."""
    longest = max(len(requests) for _, _, requests in lines)
    timings: dict[str, list[float]] = {label: [] for label, _, _ in lines}
    errors = dict.fromkeys(timings, 0)
    for attempt in range(REPEAT + 1):
        for i in range(longest):
            turn = (attempt + i) % len(lines)
            for label, _, requests in lines[turn:] + lines[:turn]:
                if i >= len(requests):
                    continue
                url, params = requests[i]
                elapsed, status = client.time(url, params)
                if attempt:  # the first pass warms the cache, untimed
                    timings[label].append(elapsed)
                    errors[label] += status != 200
    rows = []
    for label, kind, _ in lines:
        row = {
            "endpoint": label,
            "kind": kind,
            "requests": len(timings[label]),
            "p50": percentile(timings[label], 50),
            "p95": percentile(timings[label], 95),
            "errors": errors[label],
        }
        rows.append(row)
        print(
            f"  {label:<58} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms"
            + (f"  ({errors[label]} errors)" if errors[label] else ""),
            flush=True,
        )
    return rows


def _wait_for(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"Datasette did not start on port {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=18791)
    parser.add_argument("--rebuild", action="store_true", help="build even if cached")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--optimized",
        action="store_true",
        help="measure a copy of the archive after `python -m archive optimize` (made once)",
    )
    args = parser.parse_args(argv)
    folder = common.DATA
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"archive-{args.articles}.db"
    stamp = folder / f"archive-{args.articles}.json"
    print(f"Machine: {common.machine()}")
    text = FrenchText(seed=SEED)
    cached = stamp.exists() and json.loads(stamp.read_text()).get("format") == FORMAT
    if args.rebuild or not cached or not path.exists():
        print(f"Building {args.articles:,} articles into {path} ...", flush=True)
        figures = build(path, args.articles)
        figures["format"] = FORMAT
        figures["write_rates"] = write_rates(folder)
        stamp.write_text(json.dumps(figures, indent=1))
    figures = json.loads(stamp.read_text())
    rates = figures["write_rates"]
    print(
        f"Archive: {figures['articles']:,} articles, {figures['bytes'] / 2**30:.2f} GB on disk, "
        f"built in {figures['seconds'] / 60:.1f} min ({figures['rate']:.0f} articles/s, FTS5 "
        "and every row of the write path included)"
    )
    print(
        f"Write rate on the first {SAMPLE:,} articles: store_many {rates['store_many']:.0f}/s, "
        f"plain sqlite-utils insert_all {rates['plain']:.0f}/s "
        f"(× {rates['store_many'] / rates['plain']:.2f})"
    )
    if args.build_only:
        return 0
    if args.optimized:
        path = optimized_copy(path)
    print(f"Latency through Datasette ({REPEAT} × {QUERIES_PER_KIND} timed requests per line):")
    results = latencies(path, args.port, text)
    print("The same SQL straight on SQLite:")
    results += direct_latencies(path, query_sets(text))
    out = folder / f"latency-{path.stem.removeprefix('archive-')}.json"
    out.write_text(json.dumps({"figures": figures, "latency": results}, indent=1))
    summarise(results)
    return 0


def optimized_copy(path: Path) -> Path:
    """A copy of the archive with its full-text index merged, as `make optimize` does."""
    import shutil

    from archive.optimize import optimize

    copy = path.with_name(f"{path.stem}-optimized.db")
    stamp = copy.with_suffix(".json")
    if not stamp.exists() or stamp.stat().st_mtime < path.stat().st_mtime:
        print(f"Copying {path.name} and merging its full-text index ...", flush=True)
        shutil.copyfile(path, copy)
        done = optimize(copy)
        stamp.write_text(json.dumps({"segments": done.segments_before, "seconds": done.seconds}))
    figures = json.loads(stamp.read_text())
    print(
        f"Optimized copy: {figures['segments']} FTS5 segments merged into 1 in "
        f"{figures['seconds'] / 60:.1f} min (`python -m archive optimize`), "
        f"{size_of(copy) / 2**30:.2f} GB on disk"
    )
    return copy


def summarise(results: list[dict]) -> None:
    by = {r["endpoint"]: r for r in results}
    print("\nAgainst the targets:")
    kinds = ("word", "phrase", "prefix", "and")
    for prefix in (
        "newest first, search page (sort=date)",
        "newest first, search page 3 (sort=date&page=3)",
        "newest first, Atom feed of the search",
        "newest first, table search (_search)",
    ):
        worst = max(by[f"{prefix}: {k}"]["p95"] for k in kinds)
        print(f"  {prefix:<48} worst p95 {worst:7.1f} ms (target ≤ 50 ms)")
    # The target: relevance with snippets against the same raw FTS5 ranking, both served
    # by the same Datasette; the SQLite lines show what serving adds.
    for served, raw in (
        ("relevance, search page", "relevance, raw FTS5 rank"),
        ("relevance, search page", "relevance, search page SQL (SQLite, no server)"),
        ("relevance, raw FTS5 rank", "relevance, raw FTS5 rank (SQLite, no server)"),
    ):
        ratios = {k: by[f"{served}: {k}"]["p95"] / by[f"{raw}: {k}"]["p95"] for k in kinds}
        each = ", ".join(f"{k} {ratio:.2f}" for k, ratio in ratios.items())
        print(f"  {served:<24} ÷ {raw:<47} p95 × {each}")
    print("  (target: relevance, search page ÷ relevance, raw FTS5 rank ≤ 1.2 for each kind)")
    for label in ("article page", "home page (outlets)"):
        print(f"  {label:<48} p95 {by[label]['p95']:7.1f} ms (target ≤ 50 ms)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
