"""Run `python -m crawler` under tracemalloc and keep what is live when the spider closes.

    python bench/trace_crawl.py OUT.json [crawler arguments...]

The snapshot is taken in the archive pipeline's spider_closed handler, before the run
is finished, so the spider, the scheduler and the duplicate filter are all still in
memory. OUT.json lists allocations grouped by source line (KB and block count), for
bench_memory.py --trace to compare between crawl sizes.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path


def main() -> int:
    out = Path(sys.argv[1])
    tracemalloc.start(1)
    import crawler.__main__ as entry
    import crawler.pipelines as pipelines

    original = pipelines.ArchivePipeline._closed

    def closed(self, spider, reason):
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        rows = [
            {"where": str(stat.traceback[0]), "kb": stat.size / 1024, "count": stat.count}
            for stat in snapshot.statistics("lineno")[:400]
        ]
        out.write_text(json.dumps(rows, indent=0))
        return original(self, spider, reason)

    pipelines.ArchivePipeline._closed = closed
    return entry.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
