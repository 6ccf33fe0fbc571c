"""`python -m crawler`: what `make crawl` runs.

Checks the seeds and arguments before Scrapy starts, so a mistake is one clear
line instead of a traceback, then runs the `outlets` spider with the project's
settings and prints the run's summary.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from archive.lock import ArchiveBusy, ArchiveLock
from archive.seeds import SeedsError, load_seeds, select_outlets
from archive.store import ArchiveUnusable, check_archive
from archive.stories import group_stories
from crawler.options import add_scrapy_options, project_settings
from crawler.spiders.outlets import OutletsSpider, parse_since


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crawler", description="Crawl the outlets in a seeds file into an archive."
    )
    parser.add_argument("--seeds", default="seeds/outlets.toml", help="outlets file")
    parser.add_argument("--db", default="data/archive.db", help="archive database")
    parser.add_argument("--outlet", default="", help="crawl only this outlet (slug)")
    parser.add_argument("--since", default="", help="skip articles published before YYYY-MM-DD")
    parser.add_argument(
        "--recheck",
        default="due",
        choices=("due", "all", "none"),
        help="re-fetch archived articles: those due on their schedule (default), all, or none",
    )
    parser.add_argument(
        "--warc", default="data/warc", help='folder for raw WARC captures; "none" switches them off'
    )
    add_scrapy_options(parser)
    return parser.parse_args(argv)


def summary_lines(spider: OutletsSpider) -> list[str]:
    counts = getattr(spider, "run_counts", None)
    if counts is None:
        return ["The crawl stopped before it started; nothing was recorded."]
    per_article = counts.requests / counts.archived if counts.archived else float("nan")
    lines = [
        f"Run {spider.run_id} {spider.run_status}: discovered {counts.discovered}, "
        f"fetched {counts.fetched}, archived {counts.archived}, skipped {counts.skipped}, "
        f"failed {counts.failed}; {counts.requests} requests"
        + (f" ({per_article:.2f} per archived article)" if counts.archived else ""),
    ]
    for slug, stats in spider.stats_by_outlet.items():
        lines.append(
            f"  {slug}: discovered {stats['discovered']}, already archived "
            f"{stats['skipped_known']}, older than SINCE {stats['skipped_since']}, "
            f"disallowed by robots.txt {stats['disallowed_by_robots']}"
        )
    outcomes = getattr(spider.archive, "outcomes", {})
    rechecks = sum(
        stats["rechecks"] + stats["edited_rechecks"] for stats in spider.stats_by_outlet.values()
    )
    if rechecks:
        lines.append(
            f"  re-checked {rechecks}: changed {outcomes.get('changed', 0)}, "
            f"unchanged {outcomes.get('unchanged', 0) + outcomes.get('not-modified', 0)}, "
            f"removed {outcomes.get('removed', 0)}"
        )
    unchanged = sum(stats["unchanged_pages"] for stats in spider.stats_by_outlet.values())
    if unchanged:
        lines.append(f"  {unchanged} feeds, sitemaps and sections unchanged since the last crawl")
    first = getattr(spider, "first_crawl", None)
    if first and first.get("requests") and first["id"] != spider.run_id:
        share = counts.requests / first["requests"]
        lines.append(
            f"  {counts.requests} requests = {share:.0%} of the first crawl's {first['requests']}"
        )
    if counts.failures:
        lines.append("Failed outlets:")
        lines.extend(f"  {failure}" for failure in counts.failures)
    lines.append(f"Archive: {spider.db_path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        select_outlets(load_seeds(args.seeds), args.outlet or None)
        parse_since(args.since)
    except (SeedsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        check_free_space(args.db)
        check_archive(args.db)
        lock = ArchiveLock(args.db).acquire("crawl")
    except ArchiveBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ArchiveUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        settings = project_settings(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    jobdir = settings.get("JOBDIR") or str(job_folder(args.db, args.outlet))
    damage = jobdir_damage(Path(jobdir))
    if damage:
        # A queue written while the disk filled up (or the machine died) cannot be
        # resumed; the archive keeps everything already archived, so start afresh.
        print(
            f"warning: the interrupted crawl's queue in {jobdir} is damaged ({damage}); "
            "starting afresh",
            file=sys.stderr,
        )
        shutil.rmtree(jobdir, ignore_errors=True)
    resuming = Path(jobdir, "requests.queue").exists()
    settings.set("JOBDIR", jobdir, priority="cmdline")
    if resuming:
        print(f"Resuming the interrupted crawl kept in {jobdir}", flush=True)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(OutletsSpider)
    process.crawl(
        crawler,
        seeds=args.seeds,
        db=args.db,
        outlet=args.outlet,
        since=args.since,
        warc=args.warc,
        recheck=args.recheck,
    )
    process.start()
    spider = crawler.spider
    print("\n".join(summary_lines(spider)))
    if getattr(spider, "run_counts", None) is not None:
        print_stories(args.db)
    status = getattr(spider, "run_status", "failed")
    if status == "finished":
        # A finished crawl leaves nothing to resume; the next run starts afresh.
        shutil.rmtree(jobdir, ignore_errors=True)
    elif status == "interrupted":
        print(f"Interrupted: `make crawl` with the same DB resumes from {jobdir}")
    lock.release()
    return 0 if status == "finished" else 1


def print_stories(db: str) -> None:
    """Group the new articles into stories (syndication) while the archive is still ours."""
    try:
        summary = group_stories(db)
    except Exception as exc:  # grouping must never cost the crawl its result
        print(f"warning: stories not updated: {exc}", file=sys.stderr)
        return
    print("\n".join(summary.lines()))


MIN_FREE_MB = 50  # the archive, its WARC files and Scrapy's queue all grow during a crawl


def check_free_space(db: str) -> None:
    """Refuse to start on a (nearly) full disk rather than fail half-way through."""
    needed = float(os.environ.get("VEILLE_MIN_FREE_MB", MIN_FREE_MB))
    folder = Path(db).resolve().parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free / 1024 / 1024
    if free < needed:
        raise ArchiveUnusable(
            f"only {free:.1f} MB free where the archive {db} lives; a crawl needs at least "
            f"{needed:.0f} MB (the archive, its WARC files and the crawl queue grow). Free "
            "some space, or set VEILLE_MIN_FREE_MB"
        )


def jobdir_damage(jobdir: Path) -> str | None:
    """Why a kept Scrapy queue (JOBDIR) cannot be resumed, or None if it can (or is absent)."""
    state = jobdir / "requests.queue" / "active.json"
    if not state.exists():
        return None
    try:
        json.loads(state.read_text(encoding="utf-8"))
        spider_state = jobdir / "spider.state"
        if spider_state.exists():
            with open(spider_state, "rb") as fh:
                pickle.load(fh)
    except (ValueError, OSError, EOFError, pickle.UnpicklingError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def job_folder(db: str, outlet: str) -> Path:
    """Where Scrapy keeps an interrupted crawl's queue (JOBDIR), one per archive and scope."""
    db_path = Path(db)
    return db_path.parent / "jobs" / f"{db_path.stem}-{outlet or 'all'}"


if __name__ == "__main__":
    sys.exit(main())
