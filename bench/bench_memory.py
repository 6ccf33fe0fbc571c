"""Crawl memory: peak RSS of a 20,000-page crawl against a 5,000-page one, in one run.

    python bench/bench_memory.py [--small 5000] [--large 20000] [--port 8792] [--trace]

Both crawls run the default pipeline (extraction pool, JOBDIR queues on disk, WARC
off) with politeness lifted, against generated sites served by nginx (bench/sitegen.py,
cached under data/bench/). The RSS of the crawl's whole process tree — the Scrapy
process, the fork server and the extraction workers — is sampled every 0.2 s; the
ratio of the peaks is the figure (target ≤ 1.2: no per-page state kept in memory).

With --trace each crawl also runs under tracemalloc (much slower) and the allocations
still live when the spider closes are compared between the two sizes, by source line:
what grows with the number of pages, and by how much.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import sitegen

TARGET = 1.2
TRACER = Path(__file__).resolve().parent / "trace_crawl.py"


def measure(pages: int, port: int, trace: bool) -> dict:
    base = f"http://127.0.0.1:{port}"
    work = common.DATA
    site = sitegen.generate(work / f"site-{pages}-{port}", pages, base)
    seeds = common.write_seeds(work / f"seeds-{port}.toml", base)
    db = common.fresh(work / f"memory-{pages}.db")
    with sitegen.Nginx(site, port):
        result = common.crawl(seeds, db, warc="none")
        archived = common.archived_count(db)
        figures = {
            "pages": pages,
            "archived": archived,
            "seconds": result.crawl_seconds,
            "peak_tree_mb": result.rss.peak_total_kb / 1024,
            "peak_main_mb": result.rss.peak_main_kb / 1024,
            "processes": result.rss.peak_processes,
        }
        if trace:
            trace_file = work / f"tracemalloc-{pages}.json"
            common.fresh(db)
            common.crawl(seeds, db, warc="none", launcher=[str(TRACER), str(trace_file)])
            figures["trace"] = str(trace_file)
    print(
        f"{pages:>6} pages: archived {archived}, crawl {result.crawl_seconds:.0f} s, peak RSS "
        f"{figures['peak_tree_mb']:.0f} MB in {figures['processes']} processes "
        f"(Scrapy process {figures['peak_main_mb']:.0f} MB)",
        flush=True,
    )
    return figures


def compare_traces(small: dict, large: dict, top: int = 15) -> None:
    before = {row["where"]: row for row in json.loads(Path(small["trace"]).read_text())}
    after = {row["where"]: row for row in json.loads(Path(large["trace"]).read_text())}
    growth = []
    for where, row in after.items():
        old = before.get(where, {"kb": 0.0, "count": 0})
        growth.append((row["kb"] - old["kb"], row["count"] - old["count"], where))
    growth.sort(reverse=True)
    print(f"\nWhat grows from {small['pages']} to {large['pages']} pages (live at spider close):")
    for kb, count, where in growth[:top]:
        print(f"  {kb / 1024:+8.1f} MB  {count:+9d} blocks  {where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--port", type=int, default=18792)
    parser.add_argument("--trace", action="store_true", help="also compare tracemalloc snapshots")
    args = parser.parse_args(argv)
    print(f"Machine: {common.machine()}")
    small = measure(args.small, args.port, args.trace)
    large = measure(args.large, args.port, args.trace)
    ratio = large["peak_tree_mb"] / small["peak_tree_mb"]
    main_ratio = large["peak_main_mb"] / small["peak_main_mb"]
    verdict = "meets" if ratio <= TARGET else "misses"
    print(
        f"\nPeak RSS of the crawl's process tree, {args.large} pages ÷ {args.small} pages: "
        f"× {ratio:.2f} ({verdict} the ≤ {TARGET} target); Scrapy process alone × {main_ratio:.2f}"
    )
    (common.DATA / "memory.json").write_text(json.dumps([small, large], indent=1))
    if args.trace:
        compare_traces(small, large)
    return 0


if __name__ == "__main__":
    sys.exit(main())
