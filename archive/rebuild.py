"""Archive from WARC files: re-extraction of our own captures, import of external ones.

Both read response records, extract them in a process pool (extraction is the
CPU-bound part: every core helps) and write through the archive's single entry
point in the main process, in the order the records were captured, so that a
rebuild from the WARC files gives the same archive as the crawl that made them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from warcio.archiveiterator import ArchiveIterator

from archive.ingest import Archive, Prepared, RunCounts, prepare
from archive.page import RawPage
from archive.seeds import Outlet, load_seeds, outlet_for_url
from archive.warc import ReadStats, WarcRef, iter_responses, warc_files

HTML_TYPES = ("text/html", "application/xhtml+xml")
WINDOW_PER_WORKER = 32  # pages in flight per worker: cores busy, memory bounded
BATCH = 100  # pages per write transaction


@dataclass
class Report:
    files: int = 0
    pages: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    out_of_scope: int = 0
    not_html: int = 0
    other_roles: int = 0
    read: ReadStats = field(default_factory=ReadStats)
    seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def count(self, kind: str) -> int:
        return self.outcomes.get(kind, 0)


def _prepare(item: tuple[RawPage, Any]) -> Prepared:
    page, outlet = item
    return prepare(page, outlet)


def _prepared_in_order(
    items: Iterable[tuple[RawPage, Any, WarcRef]], workers: int
) -> Iterator[tuple[Prepared, WarcRef]]:
    """Extract in a pool, yielding results in input order with bounded memory."""
    if workers <= 1:
        for page, outlet, ref in items:
            yield prepare(page, outlet), ref
        return
    window: deque[tuple[Future, WarcRef]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for page, outlet, ref in items:
            window.append((pool.submit(_prepare, (page, outlet)), ref))
            if len(window) >= workers * WINDOW_PER_WORKER:
                future, done_ref = window.popleft()
                yield future.result(), done_ref
        while window:
            future, done_ref = window.popleft()
            yield future.result(), done_ref


class Progress:
    """A line every few seconds on long runs, so a user sees it is moving."""

    def __init__(self, label: str, out: TextIO | None, every: float = 2.0):
        self.label, self.out, self.every = label, out, every
        self.started = self.last = time.monotonic()

    def tick(self, report: Report) -> None:
        now = time.monotonic()
        if self.out is None or now - self.last < self.every:
            return
        self.last = now
        rate = report.pages / (now - self.started)
        print(
            f"{self.label}: {report.pages} pages ({rate:.0f}/s), "
            f"archived {report.count('archived')}, "
            f"changed {report.count('reextracted')}",
            file=self.out,
            flush=True,
        )


def _outlets_from_warcinfo(paths: list[Path]) -> list[dict]:
    """The outlets each capture run recorded in its warcinfo records (latest wins)."""
    found: dict[str, dict] = {}
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "warcinfo":
                    break  # warcinfo opens a file; the rest is responses
                fields = dict(
                    line.split(":", 1)
                    for line in record.content_stream().read().decode("utf-8").splitlines()
                    if ":" in line
                )
                for row in json.loads(fields.get("veille-outlets", "[]").strip() or "[]"):
                    found[row["slug"]] = row
    return list(found.values())


def _drain(
    archive: Archive,
    items: Iterable[tuple[RawPage, Any, WarcRef]],
    report: Report,
    workers: int,
    run_id: int,
    since: date | None,
    reextracting: bool,
    progress: Progress,
) -> None:
    batch: list[tuple[Prepared, WarcRef]] = []

    def write() -> None:
        # One transaction per batch: a commit per page would cost more than extraction.
        with archive.db.atomic():
            for prepared, ref in batch:
                outcome = archive.store(
                    prepared, run_id, since, capture=False, warc_ref=ref, reextract=reextracting
                )
                report.pages += 1
                report.outcomes[outcome.kind] = report.outcomes.get(outcome.kind, 0) + 1
        batch.clear()
        progress.tick(report)

    for prepared, ref in _prepared_in_order(items, workers):
        batch.append((prepared, ref))
        if len(batch) >= BATCH:
            write()
    write()


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def reextract(
    db: str | Path,
    warc_root: str | Path,
    seeds: str | Path | None = None,
    outlet: str | None = None,
    since: date | None = None,
    workers: int | None = None,
    progress: TextIO | None = sys.stderr,
) -> Report:
    """Rebuild articles from veille's own WARC captures with the current extraction code."""
    started = time.monotonic()
    root = Path(warc_root)
    paths = warc_files(root)
    outlets: list[Outlet] = load_seeds(seeds) if seeds and Path(seeds).exists() else []
    archive = Archive(db, outlets)
    known = {o.slug for o in outlets}
    rows = [row for row in _outlets_from_warcinfo(paths) if row["slug"] not in known]
    if rows:
        archive.db["outlets"].upsert_all(rows, pk="slug")
    report = Report(files=len(paths))
    run_id = archive.start_run(sorted(known | {r["slug"] for r in rows}), since, kind="reextract")

    def items() -> Iterator[tuple[RawPage, Any, WarcRef]]:
        for path in paths:
            for response in iter_responses(path, root, report.read):
                page = response.page
                if page.role != "article" or (outlet and page.outlet != outlet):
                    report.other_roles += 1
                    continue
                yield page, archive.outlets.get(page.outlet), response.ref

    reextracting = _Run(archive, run_id, report, started, workers, Progress("reextract", progress))
    return reextracting.drain(items(), since, reextract=True)


def import_warc(
    locations: Iterable[str],
    db: str | Path,
    seeds: str | Path,
    workers: int | None = None,
    progress: TextIO | None = sys.stderr,
) -> Report:
    """Ingest external WARC files (e.g. CC-NEWS), keeping the seeds' outlets' pages."""
    started = time.monotonic()
    outlets = load_seeds(seeds)
    paths = sorted({p for location in locations for p in warc_files(location)})
    archive = Archive(db, outlets)
    report = Report(files=len(paths))
    run_id = archive.start_run([o.slug for o in outlets], kind="import")

    def items() -> Iterator[tuple[RawPage, Any, WarcRef]]:
        for path in paths:
            for response in iter_responses(path, None, report.read):
                page = response.page
                owner = outlet_for_url(outlets, page.final_url or page.url)
                if owner is None:
                    report.out_of_scope += 1
                    continue
                content_type = page.content_type.split(";")[0].strip().lower()
                if content_type not in HTML_TYPES:
                    report.not_html += 1
                    continue
                page.outlet, page.role, page.found_via = owner.slug, "article", "warc-import"
                yield (
                    page,
                    owner,
                    WarcRef(str(path.resolve()), response.ref.offset, response.ref.length),
                )

    importing = _Run(archive, run_id, report, started, workers, Progress("import", progress))
    return importing.drain(items(), None, reextract=False)


@dataclass
class _Run:
    """One re-extraction or import run: drain the pages, then close the run, whatever happens."""

    archive: Archive
    run_id: int
    report: Report
    started: float
    workers: int | None
    progress: Progress

    def drain(self, items: Iterable, since: date | None, reextract: bool) -> Report:
        status = "failed"
        try:
            _drain(
                self.archive,
                items,
                self.report,
                self.workers or default_workers(),
                self.run_id,
                since,
                reextract,
                self.progress,
            )
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.report.seconds = time.monotonic() - self.started
            self.archive.finish_run(self.run_id, status, _run_counts(self.report))
            self.archive.close()
        return self.report


def _run_counts(report: Report) -> RunCounts:
    return RunCounts(
        discovered=report.read.responses,
        fetched=report.pages,
        archived=report.count("archived"),
        skipped=report.count("duplicate")
        + report.count("unchanged")
        + report.count("skipped")
        + report.count("not-article")
        + report.out_of_scope
        + report.not_html,
        failed=report.count("failed"),
        failures=list(report.read.errors or []),
    )


def summary(report: Report, label: str) -> list[str]:
    lines = [
        f"{label}: {report.pages} pages from {report.files} WARC files in "
        f"{report.seconds:.1f} s ({report.pages_per_second:.1f} pages/s)",
        f"  archived {report.count('archived')}, changed {report.count('reextracted')}, "
        f"unchanged {report.count('unchanged')}, already archived {report.count('duplicate')}, "
        f"not articles {report.count('not-article')}, failed {report.count('failed')}",
    ]
    if report.out_of_scope or report.not_html:
        lines.append(
            f"  skipped: {report.out_of_scope} outside the seeds' outlets, "
            f"{report.not_html} not HTML"
        )
    if report.read.skipped_revisits:
        lines.append(f"  skipped {report.read.skipped_revisits} revisit records (no payload)")
    for error in report.read.errors or []:
        lines.append(f"  warning: {error}")
    return lines
