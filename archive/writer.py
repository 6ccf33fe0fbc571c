"""`python -m archive.writer`: what `make writer` runs — the one writer of a distributed crawl.

Workers on any number of machines push raw pages to a Redis list (see
`archive/distributed.py`); the writer drains it into the archive through its single
entry point, `prepare` then `Archive.store_many`, as a live crawl does. It is the
only process that writes the archive, so it holds the archive's lock.

Delivery is at least once, archiving exactly once:

- A batch is moved atomically from the page queue to a processing list (BLMOVE),
  stored in one transaction, and only then removed. A writer killed mid-batch leaves
  its batch in the processing list; the next writer puts it back at the head of the
  queue before anything else. A page stored twice that way is one article still:
  the archive keys articles by canonical URL (the fetch is recorded twice).
- The writer keeps the set of archived url keys in Redis (rebuilt from the archive
  at start, added to after each batch), which is how workers, who have no database,
  skip articles already archived.

The writer records one run (kind "distributed") and finishes it once the workers
are gone and the queue is drained. Extraction runs in a process pool on every core
of this machine, as in a crawl; workers only fetch.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import redis

from archive.distributed import (
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    DistributedError,
    Keys,
    Message,
    Scope,
    connect,
    decode_message,
    display_url,
    load_scope,
    requeue_dead_workers,
    text,
    worker_states,
)
from archive.ingest import Archive, Outcome, Prepared, RunCounts, prepare
from archive.lock import ArchiveBusy, ArchiveLock
from archive.page import RawPage
from archive.pool import Extraction, ExtractionPool, crashed, default_workers, needs_extraction
from archive.store import ArchiveUnusable, check_archive, upsert_outlets

logger = logging.getLogger("veille.writer")

BATCH = 50  # pages per transaction, as the crawl's pipeline writes them
LOCK_TTL = 30.0  # seconds: a writer silent this long no longer holds the queue
POLL = 0.5  # seconds the writer blocks on an empty queue before looking around
PROGRESS_EVERY = 10.0  # seconds between progress lines
WAIT_FOR_WORKERS = 300.0  # seconds to wait for a first worker before giving up

# Move up to ARGV[1] messages from the queue to the processing list, oldest first.
TAKE_LUA = """
local moved = {}
for i = 1, tonumber(ARGV[1]) do
  local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not item then break end
  moved[#moved + 1] = item
end
return moved
"""
# Renew or release the writer's lock only while this writer holds it.
RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WriterBusy(DistributedError):
    """Another writer drains this queue."""


@dataclass
class ScopeInfo:
    outlets: dict[str, Any]
    since: date | None


class Writer:
    """Drains the page queue of one Redis prefix into one archive."""

    def __init__(
        self,
        db: str | Path,
        client: redis.Redis,
        keys: Keys | None = None,
        warc_root: str | Path | None = None,
        batch: int = BATCH,
        workers: int | None = None,
        wait: float = WAIT_FOR_WORKERS,
    ):
        self.db = Path(db)
        self.client = client
        self.keys = keys or Keys()
        self.warc_root = warc_root
        self.batch = max(1, batch)
        self.workers = default_workers() if workers is None else max(0, workers)
        self.wait = wait
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.archive: Archive | None = None
        self.pool: ExtractionPool | None = None
        self.run_id: int | None = None
        self.status: str | None = None
        self.counts: RunCounts | None = None
        self.stopping = False
        self.pages = 0
        self.unreadable = 0
        self.requeued = 0
        self._scopes: dict[str, ScopeInfo | None] = {}
        self._take = client.register_script(TAKE_LUA)
        self._renew = client.register_script(RENEW_LUA)
        self._release = client.register_script(RELEASE_LUA)

    # -- the run ------------------------------------------------------------------------

    def run(self) -> str:
        """Drain until the workers are gone and the queue is empty; the run's status."""
        self._acquire()
        try:
            self.archive = Archive(self.db, warc_root=self.warc_root)
            recovered = self._recover_processing()
            if recovered:
                logger.info("Put back %d pages a previous writer had not stored", recovered)
            self._publish_archived()
            if not self._wait_for_work():
                logger.warning("No worker joined within %.0f s; nothing to write", self.wait)
                self.status = "idle"
                return self.status
            self._start_run()
            if self.workers > 1:
                self.pool = ExtractionPool(self.workers)
            self._drain()
            self._finish()
            return self.status
        finally:
            if self.pool is not None:
                self.pool.close(cancel=True)
            if self.archive is not None:
                self.archive.close()
            self._release(keys=[self.keys.writer], args=[self.id])

    def stop(self) -> None:
        """Finish the batch in hand, record the run as interrupted, leave the rest queued."""
        self.stopping = True

    def _acquire(self) -> None:
        ttl = int(LOCK_TTL * 1000)
        if self.client.set(self.keys.writer, self.id, nx=True, px=ttl):
            return
        holder = text(self.client.get(self.keys.writer)) or "another writer"
        if _dead_here(holder):
            # A writer of this machine that was killed: no need to wait for its lock to
            # expire. Its batch in processing is put back just after.
            logger.info("Taking over the queue from %s, which is no longer running", holder)
            if self._renew_from(holder, ttl):
                return
        raise WriterBusy(
            f"{holder} already drains this queue (one writer per queue; its hold lapses "
            f"{LOCK_TTL:.0f} s after it stops)"
        )

    def _renew_from(self, holder: str, ttl: int) -> bool:
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self.keys.writer)
                if text(pipe.get(self.keys.writer)) != holder:
                    return False
                pipe.multi()
                pipe.set(self.keys.writer, self.id, px=ttl)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def _renew_lock(self) -> None:
        if not self._renew(keys=[self.keys.writer], args=[self.id, int(LOCK_TTL * 1000)]):
            # Stalled past the TTL and someone else took over: two writers must not
            # split one queue between two transactions' worth of ordering.
            raise WriterBusy("this writer lost its lock on the queue (stalled too long)")

    def _recover_processing(self) -> int:
        count = 0
        # The processing list's oldest page is at its right; each goes back to the
        # consumer end of the queue, so a previous writer's batch is taken first.
        while self.client.lmove(self.keys.processing, self.keys.pages, "RIGHT", "RIGHT"):
            count += 1
        return count

    def _publish_archived(self) -> None:
        """Fill Redis's set of archived url keys from the archive, swapped in at once."""
        assert self.archive is not None
        scratch = f"{self.keys.archived}:rebuild"
        self.client.delete(scratch)
        rows = self.archive.db.execute("select url_key from article_urls")
        total = 0
        while chunk := [key for (key,) in rows.fetchmany(5000)]:
            self.client.sadd(scratch, *chunk)
            total += len(chunk)
        if total:
            self.client.rename(scratch, self.keys.archived)
        else:
            self.client.delete(self.keys.archived)
        logger.info("Workers will skip %d archived URLs (%s)", total, self.keys.archived)

    def _wait_for_work(self) -> bool:
        deadline = time.monotonic() + self.wait
        while not self.stopping:
            alive, _ = worker_states(self.client, self.keys)
            if alive or self.client.llen(self.keys.pages):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)
        return False

    def _start_run(self) -> None:
        assert self.archive is not None
        digest = text(self.client.get(self.keys.scope)) or ""
        info = self._scope(digest)
        outlets = info.outlets if info else {}
        # Outlets first: the run's WARC files name them in their warcinfo record.
        if outlets:
            upsert_outlets(self.archive.db, outlets.values())
            self.archive.outlets.update(outlets)
        since = info.since if info else None
        self.run_id = self.archive.start_run(list(outlets), since, kind="distributed")
        logger.info(
            "Run %s: writing %s into %s (%s)",
            self.run_id,
            ", ".join(outlets) or "the queued pages",
            self.db,
            f"extracting in {self.workers} processes" if self.workers > 1 else "extracting here",
        )

    def _drain(self) -> None:
        progress = time.monotonic()
        while not self.stopping:
            self._renew_lock()
            batch = self._take_batch()
            if batch:
                self._store(batch)
            elif self._run_over():
                return
            if time.monotonic() - progress >= PROGRESS_EVERY:
                progress = time.monotonic()
                self._log_progress()

    def _take_batch(self) -> list[bytes]:
        first = self.client.blmove(self.keys.pages, self.keys.processing, POLL, "RIGHT", "LEFT")
        if first is None:
            return []
        rest = self._take(keys=[self.keys.pages, self.keys.processing], args=[self.batch - 1])
        return [first, *rest]

    def _run_over(self) -> bool:
        """No live worker and nothing queued; dead workers' requests go back first."""
        moved = requeue_dead_workers(self.client, self.keys)
        for worker, count in moved.items():
            logger.warning("Worker %s is gone; %d requests it had taken re-queued", worker, count)
            self.requeued += count
        alive, _ = worker_states(self.client, self.keys)
        return not alive and self.client.llen(self.keys.pages) == 0

    def _log_progress(self) -> None:
        assert self.archive is not None
        alive, _ = worker_states(self.client, self.keys)
        logger.info(
            "%d pages stored (%d articles archived); %d queued, %d requests to fetch, %d workers",
            self.pages,
            self.archive.outcomes["archived"],
            self.client.llen(self.keys.pages),
            self.client.llen(self.keys.requests),
            len(alive),
        )

    # -- one batch ---------------------------------------------------------------------

    def _store(self, batch: list[bytes]) -> None:
        assert self.archive is not None
        messages: list[Message] = []
        for data in batch:
            try:
                messages.append(decode_message(data))
            except (ValueError, KeyError, TypeError) as exc:
                # Kept out of the archive, and out of the queue: it would fail again.
                logger.error("Dropping a message this writer cannot read: %s", exc)
                self.unreadable += 1
        pages = [m for m in messages if m.kind == "page" and m.page is not None]
        prepared = self._prepare(pages)
        outcomes: list[Outcome | None] = []
        # One transaction for the batch: it is removed from Redis only once committed.
        with self.archive.db.atomic():
            for since, group in _by_since(prepared):
                outcomes.extend(self.archive.store_many(group, run_id=self.run_id, since=since))
            for message in messages:
                if message.kind == "seen":
                    self.archive.touch(message.url, message.seen_at)
        self.client.delete(self.keys.processing)
        self.pages += len(pages)
        self._remember_archived(outcomes)

    def _prepare(self, messages: list[Message]) -> list[tuple[Prepared, date | None]]:
        pending: list[tuple[RawPage, Any, date | None, Future[Extraction] | Prepared]] = []
        for message in messages:
            page = message.page
            assert page is not None
            info = self._scope(message.scope)
            outlet = info.outlets.get(page.outlet) if info else None
            since = info.since if info else None
            if self.pool is not None and needs_extraction(page):
                pending.append((page, outlet, since, self.pool.submit(page, outlet)))
            else:
                pending.append((page, outlet, since, prepare(page, outlet)))
        return [(self._result(page, outlet, job), since) for page, outlet, since, job in pending]

    def _result(self, page: RawPage, outlet: Any, job: Future[Extraction] | Prepared) -> Prepared:
        if isinstance(job, Prepared):
            return job
        assert self.pool is not None
        try:
            return job.result().prepared
        except BrokenProcessPool:
            # A worker died (this page or another broke lxml, or the OOM killer):
            # once more in a fresh pool, then record the page as failed.
            try:
                return self.pool.retry_after_crash(page, outlet).result().prepared
            except BrokenProcessPool as exc:
                logger.error("Extraction of %s crashed its worker twice", page.url)
                return crashed(page, exc)

    def _remember_archived(self, outcomes: Iterable[Outcome | None]) -> None:
        assert self.archive is not None
        ids = sorted({o.article_id for o in outcomes if o is not None and o.article_id})
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        rows = self.archive.db.execute(
            f"select url_key from article_urls where article_id in ({marks})", ids
        ).fetchall()
        if rows:
            self.client.sadd(self.keys.archived, *(key for (key,) in rows))

    def _scope(self, digest: str) -> ScopeInfo | None:
        """Outlets and SINCE of the scope a page was fetched under (cached by digest)."""
        if digest not in self._scopes:
            scope = load_scope(self.client, self.keys, digest) if digest else None
            self._scopes[digest] = _scope_info(scope)
            info = self._scopes[digest]
            if info is not None and self.archive is not None:
                new = {
                    slug: o for slug, o in info.outlets.items() if slug not in self.archive.outlets
                }
                if new:
                    upsert_outlets(self.archive.db, new.values())
                    self.archive.outlets.update(new)
        return self._scopes[digest]

    # -- the end of the run -----------------------------------------------------------------

    def _finish(self) -> None:
        assert self.archive is not None and self.run_id is not None
        outcomes = self.archive.outcomes
        # Read and clear the run's counts in one transaction: what a worker adds after
        # this belongs to the next run the writer records.
        with self.client.pipeline(transaction=True) as pipe:
            pipe.scard(self.keys.discovered)
            pipe.scard(self.keys.known)
            pipe.hgetall(self.keys.stats)
            pipe.lrange(self.keys.failures, 0, -1)
            pipe.delete(*self.keys.run_counts())
            discovered, known, raw_stats, raw_failures, _ = pipe.execute()
        stats = {text(k): int(v) for k, v in raw_stats.items()}
        failures = [text(f) for f in raw_failures]
        self.counts = RunCounts(
            discovered=discovered,
            fetched=sum(outcomes.values()),
            archived=outcomes["archived"],
            skipped=known
            + stats.get("skipped_since", 0)
            + outcomes["skipped"]
            + outcomes["duplicate"]
            + outcomes["not-article"],
            failed=outcomes["failed"],
            requests=stats.get("requests", 0),
            failures=failures,
        )
        left = self.client.llen(self.keys.requests)
        status = "interrupted" if self.stopping or left else "finished"
        if failures and len(failures) >= len(self.archive.outlets) > 0:
            status = "failed"
        self.archive.finish_run(self.run_id, status, self.counts)
        self.status = status
        if left:
            logger.warning(
                "%d requests are still queued (every worker died or was stopped): workers "
                "started on the same REDIS_URL resume them",
                left,
            )

    def summary(self) -> list[str]:
        if self.counts is None or self.run_id is None:
            return ["Nothing was written."]
        counts = self.counts
        per_article = counts.requests / counts.archived if counts.archived else 0.0
        lines = [
            f"Run {self.run_id} {self.status}: discovered {counts.discovered}, "
            f"fetched {counts.fetched}, archived {counts.archived}, skipped {counts.skipped}, "
            f"failed {counts.failed}; {counts.requests} requests"
            + (f" ({per_article:.2f} per archived article)" if counts.archived else ""),
        ]
        if self.requeued:
            lines.append(f"  {self.requeued} requests of dead workers went back to the queue")
        if self.unreadable:
            lines.append(f"  {self.unreadable} unreadable messages dropped")
        if counts.failures:
            lines.append("Failed outlets:")
            lines.extend(f"  {failure}" for failure in counts.failures)
        lines.append(f"Archive: {self.db}")
        return lines


def _dead_here(holder: str) -> bool:
    """Is `holder` (a writer id: host-pid-nonce) a process of this machine that has ended?"""
    parts = holder.rsplit("-", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def _scope_info(scope: Scope | None) -> ScopeInfo | None:
    if scope is None:
        return None
    return ScopeInfo({o.slug: o for o in scope.outlets()}, scope.since_date)


def _by_since(
    prepared: list[tuple[Prepared, date | None]],
) -> list[tuple[date | None, list[Prepared]]]:
    groups: dict[date | None, list[Prepared]] = {}
    for item, since in prepared:
        groups.setdefault(since, []).append(item)
    return list(groups.items())


# -- python -m archive.writer ------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m archive.writer",
        description="Drain the pages of a distributed crawl from Redis into the archive.",
    )
    parser.add_argument("--db", default="data/archive.db", help="archive database")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help=f"the shared Redis (default $REDIS_URL or {DEFAULT_REDIS_URL})",
    )
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="Redis key prefix of the run")
    parser.add_argument(
        "--warc", default="data/warc", help='folder for raw WARC captures; "none" switches them off'
    )
    parser.add_argument("--batch", type=int, default=BATCH, help="pages per transaction")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="extraction processes (default: one per core; 0 or 1 extracts in this process)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT_FOR_WORKERS,
        help="seconds to wait for a first worker (default 300)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    )
    try:
        keys = Keys(args.prefix)
        client = connect(args.redis_url)
    except DistributedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        check_archive(args.db)
        lock = ArchiveLock(args.db).acquire("distributed writer")
    except ArchiveBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ArchiveUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warc = None if args.warc in ("", "none", "None") else args.warc
    writer = Writer(args.db, client, keys, warc, args.batch, args.workers, args.wait)

    def stop(signum: int, frame: FrameType | None) -> None:
        logger.info("Stopping after the batch in hand; the rest stays queued")
        writer.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        status = writer.run()
    except WriterBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except redis.RedisError as exc:
        print(f"error: Redis at {display_url(args.redis_url)}: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print("\n".join(writer.summary()))
    return 0 if status == "finished" else 1


if __name__ == "__main__":
    # Under its importable name, so worker processes of the extraction pool (which
    # unpickle by module name) and this entry point share one copy of the module.
    from archive.writer import main as _main

    sys.exit(_main())
