"""Crawl throughput: the whole pipeline against bare trafilatura, in one run.

    python bench/bench_crawl.py [--pages 2000] [--port 8790] [--no-variants] [--warc]

Generates (once, cached under data/bench/) a French news site of N article pages
with feeds, sitemaps and section pages (bench/sitegen.py), serves it with nginx on
127.0.0.1, then measures on the same pages:

1. the baseline: `trafilatura.extract(html, with_metadata=True)` over every article
   page, one after the other on one core (the bytes already in memory);
2. `python -m crawler` on the site with politeness lifted (SCRAPY_ARGS): discovery
   from robots.txt, sitemaps, the feed and sections, fetching, extraction in the
   process pool, batched writes to SQLite with FTS5;
3. variants: the pooled crawl without following related-article links
   (VEILLE_FOLLOW_ARTICLE_LINKS=False), and extraction in-process
   (VEILLE_EXTRACT_WORKERS=0) for the pool's share of the gain.

Pages per second of a crawl are archived articles over the crawl's own time
(Scrapy's elapsed_time_seconds, spider open to close); the wall time of the whole
process (interpreter and Scrapy start-up included) is printed beside it. WARC
capture is off unless --warc is given (see docs/benchmarks.md for its cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import sitegen

TARGET = 1.3
CACHED_LINKS = Path(__file__).resolve().parent / "cached_links_crawl.py"


def baseline(files: list[Path]) -> float:
    """Pages per second of bare single-core trafilatura on the site's article pages."""
    import trafilatura

    bodies = [f.read_bytes() for f in files]
    trafilatura.extract(bodies[0], with_metadata=True)  # imports and caches, untimed
    started = time.perf_counter()
    for body in bodies:
        trafilatura.extract(body, with_metadata=True)
    return len(bodies) / (time.perf_counter() - started)


def run(args: argparse.Namespace) -> int:
    base = f"http://127.0.0.1:{args.port}"
    work = common.DATA
    site = sitegen.generate(work / f"site-{args.pages}-{args.port}", args.pages, base)
    files = sitegen.article_files(site)
    print(f"Machine: {common.machine()}")
    print(f"Site: {len(files)} article pages in {site} (served by nginx on {base})")
    seeds = common.write_seeds(work / f"seeds-{args.port}.toml", base)
    rows: list[tuple[str, float, str]] = []
    with sitegen.Nginx(site, args.port):
        rate = baseline(files)
        print(f"baseline: trafilatura.extract(with_metadata=True), 1 core: {rate:.1f} pages/s")
        rows.append(("trafilatura.extract, one core (baseline)", rate, ""))
        variants: list[tuple] = [("crawl, extraction pool (default)", [])]
        if not args.no_variants:
            # Every article is in the sitemaps: following related links on each article
            # page only re-finds them, at the cost of the reactor's time (see the docs).
            variants.append(
                (
                    "crawl, pool, related links not followed",
                    ["-s", "VEILLE_FOLLOW_ARTICLE_LINKS=False"],
                )
            )
        if not args.no_variants:
            variants.append(("crawl, extraction in-process", ["-s", "VEILLE_EXTRACT_WORKERS=0"]))
        if args.experiments:
            variants.append(
                ("experiment: pool, spider's URL checks memoised", [], [str(CACHED_LINKS)])
            )
        warc = str(work / "warc-crawl") if args.warc else "none"
        for label, settings, *launcher in variants:
            db = common.fresh(work / "crawl.db")
            result = common.crawl(
                seeds,
                db,
                *settings,
                *args.set,
                warc=warc,
                launcher=launcher[0] if launcher else None,
            )
            archived = common.archived_count(db)
            if archived < len(files):
                print(f"warning: {label}: archived {archived} of {len(files)} pages")
            pages_per_s = archived / result.crawl_seconds
            detail = (
                f"{archived} articles in {result.crawl_seconds:.1f} s; CPU a page: "
                f"crawl process {result.rss.main_cpu / archived * 1000:.1f} ms, "
                f"extraction workers {result.rss.children_cpu / archived * 1000:.1f} ms "
                f"(process wall {result.wall_seconds:.1f} s: "
                f"{archived / result.wall_seconds:.1f}/s); "
                f"peak RSS {result.rss.peak_total_kb / 1024:.0f} MB in "
                f"{result.rss.peak_processes} processes"
            )
            print(f"{label}: {pages_per_s:.1f} pages/s — {detail}", flush=True)
            rows.append((label, pages_per_s, detail))
        # The machine's speed drifts (other jobs, turbo): the baseline is measured again
        # after the crawls, and the ratios use the mean of both measurements.
        after = baseline(files)
        print(f"baseline again, after the crawls: {after:.1f} pages/s")
        rate = (rate + after) / 2
        rows[0] = (rows[0][0], rate, "mean of before and after the crawls")
    print()
    print(f"{'':<44}{'pages/s':>9}{'× baseline':>12}")
    for label, value, _ in rows:
        print(f"{label:<44}{value:>9.1f}{value / rate:>12.2f}")
    pool_ratio = rows[1][1] / rate
    verdict = "meets" if pool_ratio >= TARGET else "misses"
    print(
        f"\nThe pooled crawl reaches {pool_ratio:.2f}× the baseline: "
        f"{verdict} the {TARGET}× target."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument(
        "--no-variants", action="store_true", help="only the default crawl, not the variants"
    )
    parser.add_argument("--warc", action="store_true", help="capture WARC files as well")
    parser.add_argument(
        "--experiments",
        action="store_true",
        help="also crawl with the spider's URL checks memoised (bench/cached_links_crawl.py)",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        type=lambda v: f"-s{v}",
        help="an extra Scrapy setting NAME=VALUE for the crawls",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
