"""`python -m archive`: the archive's command line (search, stats, seeds check)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import textwrap
from datetime import date
from pathlib import Path

from archive.lock import ArchiveBusy, ArchiveLock
from archive.search import MARK_END, MARK_START, MAX_PAGE, search
from archive.seeds import SeedsError, load_seeds, select_outlets
from archive.store import ArchiveUnusable, check_archive
from archive.warc import warc_files


def _highlight(snippet: str, tty: bool) -> str:
    start, end = ("\x1b[1;33m", "\x1b[0m") if tty else ("**", "**")
    return " ".join(snippet.split()).replace(MARK_START, start).replace(MARK_END, end)


def cmd_search(args: argparse.Namespace) -> int:
    if not Path(args.db).exists():
        print(
            f"error: no archive at {args.db} (run `make crawl` or `make demo` first)",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.page <= MAX_PAGE:
        print(f"error: --page must be between 1 and {MAX_PAGE}", file=sys.stderr)
        return 2
    try:
        hits = search(
            args.db,
            args.query,
            limit=args.limit,
            outlet=args.outlet,
            newest_first=args.newest,
            page=args.page,
        )
    except sqlite3.Error as exc:
        print(f"error: search failed: {exc}", file=sys.stderr)
        return 2
    if not hits and args.page > 1:
        shown = args.limit * (args.page - 1)
        print(f"Page {args.page} is empty: {args.query!r} has at most {shown} matches.")
        return 0
    if not hits:
        print(f"No article matches {args.query!r}.")
        return 0
    tty = sys.stdout.isatty()
    for number, hit in enumerate(hits, args.limit * (args.page - 1) + 1):
        day = (hit.published or "no date")[:10]
        print(f"{number:>2}. {hit.title or '(untitled)'}")
        print(f"    {hit.outlet} · {day} · {hit.url}")
        wrapped = textwrap.fill(
            _highlight(hit.snippet, tty), width=96, initial_indent="    ", subsequent_indent="    "
        )
        print(wrapped)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    conn = sqlite3.connect(f"file:{Path(args.db).resolve()}?mode=ro", uri=True)
    rows = conn.execute(
        "select outlet, count(*), min(published), max(published) from articles "
        "group by outlet order by outlet"
    ).fetchall()
    print(f"{'outlet':<24} {'articles':>8}  first published  last published")
    for outlet, count, first, last in rows:
        print(f"{outlet:<24} {count:>8}  {(first or '')[:10]:<15}  {(last or '')[:10]}")
    run = conn.execute(
        "select id, status, started, finished, discovered, fetched, archived, skipped, failed "
        "from runs order by id desc limit 1"
    ).fetchone()
    if run:
        print(
            f"last run {run[0]} ({run[1]}, {run[2]} → {run[3]}): discovered {run[4]}, "
            f"fetched {run[5]}, archived {run[6]}, skipped {run[7]}, failed {run[8]}"
        )
    return 0


def cmd_seeds(args: argparse.Namespace) -> int:
    try:
        outlets = select_outlets(load_seeds(args.seeds), args.outlet or None)
    except SeedsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for outlet in outlets:
        print(f"{outlet.slug:<20} {outlet.name:<32} {outlet.homepage}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from archive.serve import serve

    return serve(args.db, host=args.host, port=args.port, warc=args.warc)


def _since(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def _writer_lock(db: str, what: str) -> ArchiveLock | None:
    """The archive's writer lock, or None after saying why it cannot be had."""
    try:
        check_archive(db)
        return ArchiveLock(db).acquire(what)
    except (ArchiveBusy, ArchiveUnusable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def cmd_reextract(args: argparse.Namespace) -> int:
    from archive.rebuild import reextract, summary

    if not warc_files(args.warc):
        print(f"error: no WARC files under {args.warc}", file=sys.stderr)
        return 2
    lock = _writer_lock(args.db, "re-extraction")
    if lock is None:
        return 3
    report = reextract(
        args.db,
        args.warc,
        seeds=args.seeds,
        outlet=args.outlet,
        since=args.since,
        workers=args.workers,
    )
    print("\n".join(summary(report, "reextract")))
    return 0


def cmd_import_warc(args: argparse.Namespace) -> int:
    from archive.rebuild import import_warc, summary

    missing = [location for location in args.files if not warc_files(location)]
    if missing:
        print(f"error: no WARC files at {', '.join(missing)}", file=sys.stderr)
        return 2
    lock = _writer_lock(args.db, "WARC import")
    if lock is None:
        return 3
    try:
        report = import_warc(args.files, args.db, args.seeds, workers=args.workers)
    except SeedsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary(report, "import")))
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from archive.optimize import optimize

    lock = _writer_lock(args.db, "index optimisation")
    if lock is None:
        return 3
    try:
        done = optimize(args.db)
    finally:
        lock.release()
    print("\n".join(done.lines()))
    return 0


# -- monitoring: stories, alerts, health -----------------------------------------------


def _archive_exists(db: str) -> bool:
    if Path(db).exists():
        return True
    print(f"error: no archive at {db} (run `make crawl` or `make demo` first)", file=sys.stderr)
    return False


def cmd_stories(args: argparse.Namespace) -> int:
    from archive.stories import group_stories

    if not _archive_exists(args.db):
        return 2
    if args.threshold is not None and not 0 < args.threshold < 1:
        print("error: --threshold must be between 0 and 1 (excluded)", file=sys.stderr)
        return 2
    lock = _writer_lock(args.db, "story grouping")
    if lock is None:
        return 3
    try:
        summary = group_stories(args.db, threshold=args.threshold)
    finally:
        lock.release()
    print("\n".join(summary.lines()))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from archive.alerts import AlertsError, load_alerts, report_lines, run_alerts

    try:
        alerts = load_alerts(args.alerts)
    except AlertsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for alert in alerts:
            print(f"{alert.name}: {alert.query} ({alert.scope})")
        return 0
    if not _archive_exists(args.db):
        return 2
    try:
        runs = run_alerts(args.db, alerts, limit=args.limit, save=not args.dry_run)
    except sqlite3.Error as exc:
        print(f"error: alerts failed: {exc}", file=sys.stderr)
        return 2
    lines = report_lines(runs, Path(args.db).stem, args.datasette, tty=sys.stdout.isatty())
    print("\n".join(lines))
    if args.dry_run:
        print("(dry run: the next run will report the same matches)")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from archive.health import outlet_health, report_lines

    if not _archive_exists(args.db):
        return 2
    print("\n".join(report_lines(outlet_health(args.db))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m archive", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    found = commands.add_parser("search", help="full-text search of an archive")
    found.add_argument("query", help='words, "a phrase", prefix*, OR, -excluded')
    found.add_argument("--db", default="data/archive.db")
    found.add_argument("--limit", type=int, default=10)
    found.add_argument("--outlet", default="")
    found.add_argument(
        "--page", type=int, default=1, help=f"the next LIMIT matches: 2, 3… (at most {MAX_PAGE})"
    )
    found.add_argument("--newest", action="store_true", help="newest first instead of best first")
    found.set_defaults(func=cmd_search)

    stats = commands.add_parser("stats", help="articles per outlet and the last run")
    stats.add_argument("--db", default="data/archive.db")
    stats.set_defaults(func=cmd_stats)

    seeds = commands.add_parser("seeds", help="check a seeds file and list its outlets")
    seeds.add_argument("seeds", nargs="?", default="seeds/outlets.toml")
    seeds.add_argument("--outlet", default="")
    seeds.set_defaults(func=cmd_seeds)

    rebuilt = commands.add_parser(
        "reextract", help="rebuild articles from the WARC captures with the current extraction"
    )
    rebuilt.add_argument("--db", default="data/archive.db")
    rebuilt.add_argument("--warc", default="data/warc", help="folder holding the captures")
    rebuilt.add_argument("--seeds", default="seeds/outlets.toml")
    rebuilt.add_argument("--outlet", default="")
    rebuilt.add_argument("--since", type=_since, default=None, help="published on or after")
    rebuilt.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    rebuilt.set_defaults(func=cmd_reextract)

    imported = commands.add_parser(
        "import-warc", help="import external WARC files (e.g. CC-NEWS) for the seeds' outlets"
    )
    imported.add_argument("files", nargs="+", help="WARC files, folders or globs")
    imported.add_argument("--db", default="data/archive.db")
    imported.add_argument("--seeds", default="seeds/outlets.toml")
    imported.add_argument("--workers", type=int, default=None)
    imported.set_defaults(func=cmd_import_warc)

    optimized = commands.add_parser(
        "optimize", help="merge the full-text index into one segment, for faster searches"
    )
    optimized.add_argument("--db", default="data/archive.db")
    optimized.set_defaults(func=cmd_optimize)

    served = commands.add_parser("serve", help="publish an archive with Datasette")
    served.add_argument("--db", default="data/archive.db")
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=int, default=8001)
    served.add_argument("--warc", default="data/warc", help="captures, for archived copies")
    served.set_defaults(func=cmd_serve)
    grouped = commands.add_parser(
        "stories", help="group near-duplicate articles into stories (syndication)"
    )
    grouped.add_argument("--db", default="data/archive.db")
    grouped.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="estimated Jaccard similarity of 5-word shingles for two articles to be one "
        "story (default: the archive's current one, else 0.6); a new value regroups all",
    )
    grouped.set_defaults(func=cmd_stories)

    alerted = commands.add_parser(
        "alerts", help="print what matches each saved alert since its previous run"
    )
    alerted.add_argument("--db", default="data/archive.db")
    alerted.add_argument("--alerts", default="seeds/alerts.toml", help="the alerts file")
    alerted.add_argument("--limit", type=int, default=20, help="matches shown per alert")
    alerted.add_argument(
        "--dry-run", action="store_true", help="do not record this run (show the same next time)"
    )
    alerted.add_argument("--check", action="store_true", help="only check the alerts file")
    alerted.add_argument(
        "--datasette",
        default="http://127.0.0.1:8001",
        help="address of the published archive, for the feeds' URLs",
    )
    alerted.set_defaults(func=cmd_alerts)

    healthy = commands.add_parser(
        "health", help="per outlet: last crawl, recent articles, errors, silent outlets"
    )
    healthy.add_argument("--db", default="data/archive.db")
    healthy.set_defaults(func=cmd_health)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
