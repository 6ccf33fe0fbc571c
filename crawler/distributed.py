"""Distributed crawling: workers on any number of machines share one Redis request queue.

`make worker` (or `scrapy crawl worker`, e.g. under Scrapyd) runs `WorkerSpider`, the
generic outlets spider with three things changed, all on scrapy-redis:

- **The queue and the duplicate filter are in Redis** (`WorkerScheduler`), so every
  request any worker discovers can be fetched by any worker, once per run. The first
  worker of a run seeds it (robots.txt, homepage, feeds and sitemaps of each outlet);
  the others only consume, and discovery goes on in whichever worker fetches a page.
- **Pages go to Redis, not to SQLite** (`PageQueuePipeline`): workers have no database.
  One writer (`archive/writer.py`) drains the page queue through `Archive.store`. What
  the spider asks its archive ("is this article archived?") is answered from a Redis
  set the writer keeps (`RedisArchive`).
- **Nothing is lost when a worker dies.** A worker takes a request by moving it
  atomically from the queue to its own in-flight list (LMOVE) and removes it only
  once Scrapy is done with it: its page pushed, the requests it led to queued. A
  worker refreshes a heartbeat key; when it expires, the first live worker (or the
  writer, once no worker is left) moves its in-flight requests back to the queue.

A worker leaves once the shared queue has been empty, with no request in flight in
any worker, for VEILLE_IDLE seconds (`make worker IDLE=...`). The Redis layout is
described in `archive/distributed.py`, the operation in docs/distributed.md.

scrapy-redis 0.9.1 predates Scrapy 2.13: its scheduler passes `spider=` to the stats
collector (a ScrapyDeprecationWarning per request on Scrapy 2.19) and its RedisSpider
feeds requests through `start_requests()`/`next_requests()`, which Scrapy no longer
calls. `WorkerScheduler` re-implements the scheduler methods on the current interface;
RedisSpider is not used: the shared scheduler alone shares the queue, and the spider's
own `async def start()` seeds it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import time
import uuid
import weakref
from base64 import b64decode, b64encode
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.settings import BaseSettings
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from archive.distributed import (
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    SEEDING_DONE,
    DistributedError,
    Keys,
    Scope,
    connect,
    display_url,
    encode_page,
    encode_seen,
    inflight_count,
    publish_scope,
    requeue_dead_workers,
    text,
    worker_states,
)
from archive.page import RawPage
from archive.seeds import SeedsError, load_seeds, select_outlets
from archive.urls import url_key
from crawler.options import add_scrapy_options, project_settings
from crawler.spiders.outlets import OutletsSpider, parse_since, utc_now

logger = logging.getLogger(__name__)

# Defaults of the settings a worker reads (any can be given with -s NAME=VALUE).
IDLE_SECONDS = 10.0  # VEILLE_IDLE: how long the shared queue stays empty before a worker leaves
WORKER_TTL = 15.0  # VEILLE_WORKER_TTL: a worker silent this long is dead; its requests go back
MAX_QUEUED_PAGES = 2000  # VEILLE_MAX_QUEUED_PAGES: workers pause while the writer lags so much

# Scrapy settings of a worker, applied by the spider itself so that `scrapy crawl worker`
# (Scrapyd) gets them as well as `make worker`.
WORKER_SETTINGS: dict[str, Any] = {
    "SCHEDULER": "crawler.distributed.WorkerScheduler",
    "DUPEFILTER_CLASS": "crawler.distributed.SharedDupeFilter",
    "SCHEDULER_QUEUE_CLASS": "crawler.distributed.SharedQueue",
    # The queue and the duplicate filter belong to the run, not to one worker: a
    # worker leaving never flushes them (the last one out clears the filter).
    "SCHEDULER_PERSIST": True,
    "ITEM_PIPELINES": {
        "crawler.pipelines.ArchivePipeline": None,
        "crawler.distributed.PageQueuePipeline": 300,
    },
    "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
    # State lives in Redis; a JOBDIR would only keep a stale local copy of it.
    "JOBDIR": None,
}


def worker_keys(settings: BaseSettings) -> Keys:
    return Keys(settings.get("VEILLE_REDIS_PREFIX") or DEFAULT_PREFIX)


# -- requests in Redis ------------------------------------------------------------------


class RequestCodec:
    """Requests in the shared queue as JSON, bytes tagged as base64.

    scrapy-redis pickles requests by default; unpickling runs whatever code the data
    names, so anyone able to write to the shared Redis could run code on every
    worker. Request dicts (URL, callback name, headers, meta) are plain values.
    """

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(_tag(obj), separators=(",", ":")).encode("utf-8")

    @staticmethod
    def loads(data: bytes) -> Any:
        return _untag(json.loads(data))


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return {"$b": b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: _tag(item) for key, item in value.items()}
        # Headers have bytes keys; "$"-keys would read back as tags.
        return {"$d": [[_tag(key), _tag(item)] for key, item in value.items()]}
    raise TypeError(f"a request holding a {type(value).__name__} cannot be queued in Redis")


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return b64decode(value["$b"])
        if len(value) == 1 and "$d" in value:
            return {_untag(key): _untag(item) for key, item in value["$d"]}
        return {key: _untag(item) for key, item in value.items()}
    return value


# Queue a request unless its fingerprint is already in the run's filter, in one step:
# a worker dying between the two would leave a request "seen" but never queued.
ENQUEUE_LUA = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class SharedQueue(FifoQueue):
    """scrapy-redis's FIFO queue, made reliable: requests are taken, not popped.

    FIFO rather than scrapy-redis's priority queue: a sorted set cannot be moved from
    atomically into a per-worker list, and breadth-first suits discovery (sitemaps
    and feeds before the articles they list). The spider sets no priorities.
    """

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None):
        super().__init__(server, spider, key, serializer or RequestCodec)
        self._enqueue = server.register_script(ENQUEUE_LUA)

    def encode(self, request: Request) -> bytes:
        return self._encode_request(request)

    def decode(self, data: bytes) -> Request:
        return self._decode_request(data)

    def push_new(self, data: bytes, fingerprint: str, dupefilter_key: str) -> bool:
        return bool(self._enqueue(keys=[dupefilter_key, self.key], args=[fingerprint, data]))

    def push_encoded(self, data: bytes) -> None:
        self.server.lpush(self.key, data)

    def take(self, inflight_key: str) -> bytes | None:
        return self.server.lmove(self.key, inflight_key, "RIGHT", "LEFT")


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's filter on the run's key; it outlives any one worker."""

    @classmethod
    def from_spider(cls, spider: Any) -> SharedDupeFilter:
        settings = spider.settings
        return cls(
            get_redis_from_settings(settings),
            key=worker_keys(settings).dupefilter,
            debug=settings.getbool("DUPEFILTER_DEBUG"),
        )

    def close(self, reason: str = "") -> None:
        # scrapy-redis deletes the fingerprints here; other workers still need them.
        pass


class WorkerScheduler(Scheduler):
    """scrapy-redis's scheduler on Scrapy 2.19's scheduler interface.

    Same queue and filter, with three changes: stats are counted without the
    deprecated `spider=` argument; queueing is one atomic check-and-push; and a
    request is taken into the worker's in-flight list rather than popped.
    """

    worker: Worker
    queue: SharedQueue

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerScheduler:
        settings = crawler.settings
        keys = worker_keys(settings)
        server = get_redis_from_settings(settings)
        server.ping()
        scheduler = cls(
            server=server,
            persist=True,
            queue_key=keys.requests,
            queue_cls="crawler.distributed.SharedQueue",
            dupefilter_key=keys.dupefilter,
            dupefilter_cls="crawler.distributed.SharedDupeFilter",
            serializer=RequestCodec,
        )
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Any) -> None:
        worker = getattr(spider, "worker", None)
        if not isinstance(worker, Worker):
            raise TypeError("WorkerScheduler serves the distributed worker spider only")
        self.spider = spider
        self.worker = worker
        self.queue = SharedQueue(self.server, spider, self.queue_key, self.serializer)
        self.df = SharedDupeFilter.from_spider(spider)
        worker.join()

    def close(self, reason: str) -> None:
        self.worker.leave(reason)

    def enqueue_request(self, request: Request) -> bool:
        try:
            data = self.queue.encode(request)
        except (TypeError, ValueError) as exc:
            logger.error("Cannot queue %s: %s", request.url, exc)
            return False
        if request.dont_filter:
            self.queue.push_encoded(data)
        elif not self.queue.push_new(data, self.df.request_fingerprint(request), self.df.key):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        request = self.worker.take(self.queue)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0


# -- the worker's side of the run --------------------------------------------------------

# Join the run, or start one. No worker listed and nothing queued means no run: this
# worker's seeds make a new one (and the filter of a run whose last worker died goes).
# Otherwise it must crawl the same scope as the run, since it will take any request.
JOIN_LUA = """
local others = redis.call('SCARD', KEYS[1])
local queued = redis.call('LLEN', KEYS[5])
local verdict = 'join'
if others == 0 and queued == 0 then
  redis.call('DEL', KEYS[6])
  redis.call('SET', KEYS[3], ARGV[3])
  redis.call('SET', KEYS[4], ARGV[1])
  verdict = 'new'
else
  local current = redis.call('GET', KEYS[3])
  if current ~= ARGV[3] then
    return {'other', current or ''}
  end
  if others == 0 then verdict = 'resume' end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return {verdict, ARGV[3]}
"""

# Whose turn it is to seed: the holder while it lives, then whoever asks.
SEEDING_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return 'mine' end
if holder == ARGV[3] then return 'done' end
if holder and redis.call('EXISTS', ARGV[2] .. holder) == 1 then return 'wait' end
redis.call('SET', KEYS[1], ARGV[1])
return 'mine'
"""

# Leave the run; the last worker out of a finished run (nothing queued) clears its filter.
LEAVE_LUA = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('LLEN', KEYS[4]) == 0 then
  redis.call('DEL', KEYS[5])
  return 1
end
return 0
"""

# crawler.stats keys summed over workers into the run's counts.
SHARED_STATS = {
    "requests": "downloader/request_count",
    "skipped_since": "veille/skipped_since",
    "disallowed_by_robots": "veille/disallowed_by_robots",
}


class Worker:
    """One worker process in the run: membership, heartbeat, taken requests, idle exit."""

    def __init__(self, crawler: Crawler, spider: WorkerSpider):
        settings = crawler.settings
        self.crawler = crawler
        self.spider = spider
        self.keys = worker_keys(settings)
        self.redis_url = settings.get("REDIS_URL") or DEFAULT_REDIS_URL
        self.server: redis.Redis = get_redis_from_settings(settings)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.idle_seconds = settings.getfloat("VEILLE_IDLE", IDLE_SECONDS)
        self.ttl = max(1.0, settings.getfloat("VEILLE_WORKER_TTL", WORKER_TTL))
        # Several beats per TTL, so one late beat never makes a live worker look dead.
        self.tick = min(0.5, self.ttl / 4)
        self.max_pages = settings.getint("VEILLE_MAX_QUEUED_PAGES", MAX_QUEUED_PAGES)
        self.scope: Scope = spider.scope
        self.joined = False
        self.verdict = ""
        self.pages_pushed = 0
        self.requeued = 0  # requests of dead workers this worker put back in the queue
        # Taken requests Scrapy has let go of, appended by finalizers: a deque, whose
        # append and popleft need no lock against them.
        self._finished: deque[bytes] = deque()
        self._known: list[str] = []
        self._pushed_stats: dict[str, int] = dict.fromkeys(SHARED_STATS, 0)
        self._failures_sent = 0
        self._idle_since: float | None = None
        self._paused = False
        self._beat: LoopingCall | None = None
        self._join = self.server.register_script(JOIN_LUA)
        self._seeding = self.server.register_script(SEEDING_LUA)
        self._leave = self.server.register_script(LEAVE_LUA)

    @property
    def inflight_key(self) -> str:
        return self.keys.inflight(self.id)

    # -- membership -------------------------------------------------------------

    def join(self) -> None:
        # Dead workers still listed would hide that no run is going on; their requests
        # go back to the queue first (and then this worker resumes their run).
        self._requeue_dead()
        publish_scope(self.server, self.keys, self.scope)
        verdict, digest = (
            text(value)
            for value in self._join(
                keys=[
                    self.keys.workers,
                    self.keys.alive(self.id),
                    self.keys.scope,
                    self.keys.seeding,
                    self.keys.requests,
                    self.keys.dupefilter,
                ],
                args=[self.id, int(self.ttl * 1000), self.scope.digest],
            )
        )
        if verdict == "other":
            logger.error(
                "Redis at %s holds a run of other seeds (scope %s, this worker's is %s): every "
                "worker of a run needs the same SEEDS, OUTLET and SINCE. Wait for that run "
                "to end, or use another REDIS_URL (e.g. another database number).",
                display_url(self.redis_url),
                digest or "unknown",
                self.scope.digest,
            )
            self.verdict = verdict
            raise CloseSpider("other-run")
        self.joined = True
        self.verdict = verdict
        logger.info(
            "Worker %s %s (scope %s, queue %s)",
            self.id,
            {
                "new": "starts a new run",
                "resume": "resumes an interrupted run",
                "join": "joins the run",
            }[verdict],
            self.scope.digest,
            display_url(self.redis_url),
        )
        self._beat = LoopingCall(self._heartbeat)
        self._beat.start(self.tick, now=False)

    def leave(self, reason: str) -> None:
        if not self.joined:
            return
        self.joined = False
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self._flush()
        # Scrapy closes a spider only once no request is in progress, so every request
        # this worker took is finished: its in-flight list goes with it.
        last = self._leave(
            keys=[
                self.keys.workers,
                self.keys.alive(self.id),
                self.inflight_key,
                self.keys.requests,
                self.keys.dupefilter,
            ],
            args=[self.id],
        )
        queued = self.server.llen(self.keys.requests)
        if last:
            logger.info(
                "Worker %s leaves (%s); the run's queue is empty: run over", self.id, reason
            )
        else:
            logger.info(
                "Worker %s leaves (%s); %d requests queued for the others", self.id, reason, queued
            )

    # -- seeding ---------------------------------------------------------------------

    def seeding_turn(self) -> str:
        """Whose turn to seed: "mine" (now), "wait" (a live worker is seeding) or "done"."""
        return text(
            self._seeding(
                keys=[self.keys.seeding], args=[self.id, self.keys.alive_prefix, SEEDING_DONE]
            )
        )

    def seeding_done(self) -> None:
        self.server.set(self.keys.seeding, SEEDING_DONE)

    # -- requests --------------------------------------------------------------------

    def take(self, queue: SharedQueue) -> Request | None:
        while True:
            data = queue.take(self.inflight_key)
            if data is None:
                return None
            try:
                request = queue.decode(data)
            except Exception:
                logger.exception("Dropping a queued request this worker cannot read")
                self.server.lrem(self.inflight_key, 1, data)
                continue
            # The request is finished when Scrapy lets go of it: the engine holds it
            # until its response went through the callback and every page and request
            # that came out was handed on (pushed to Redis). Releasing late only means
            # a request may be fetched twice if this worker dies; never lost. The
            # finalizer only records: Redis is called from the heartbeat, never from
            # inside whatever code the garbage collector interrupted.
            weakref.finalize(request, self._finished.append, data)
            return request

    # -- pages -----------------------------------------------------------------------

    def push_page(self, page: RawPage) -> None:
        self.server.lpush(self.keys.pages, encode_page(page, self.scope.digest))
        self.pages_pushed += 1

    def push_seen(self, url: str, seen_at: str) -> None:
        self.server.lpush(self.keys.pages, encode_seen(url, seen_at, self.scope.digest))
        self._known.append(url_key(url))

    # -- heartbeat -----------------------------------------------------------------------

    def _heartbeat(self) -> None:
        # A LoopingCall stops for good on its first exception; Redis being briefly
        # unreachable must not stop the heartbeat.
        try:
            self._flush()
            self._requeue_dead()
            self._throttle()
            self._wake_engine()
        except redis.RedisError as exc:
            logger.warning("Redis at %s: %s", display_url(self.redis_url), exc)
        except Exception:
            logger.exception("Worker heartbeat failed")

    def _flush(self) -> None:
        """Renew this worker's heartbeat and send what it has to tell the run, in one trip."""
        finished = [self._finished.popleft() for _ in range(len(self._finished))]
        discovered = self.spider.discovered.take_new()
        known, self._known = self._known, []
        stats = self.crawler.stats
        with self.server.pipeline(transaction=False) as pipe:
            if self.joined:
                # The heartbeat says how many pages the worker sent, for whoever watches.
                pipe.set(self.keys.alive(self.id), self.pages_pushed, px=int(self.ttl * 1000))
                # Listed again if a stall made the others take it for dead.
                pipe.sadd(self.keys.workers, self.id)
            for data in finished:
                pipe.lrem(self.inflight_key, 1, data)
            if discovered:
                pipe.sadd(self.keys.discovered, *discovered)
            if known:
                pipe.sadd(self.keys.known, *known)
            for name, stat in SHARED_STATS.items():
                value = stats.get_value(stat, 0)
                if value != self._pushed_stats[name]:
                    pipe.hincrby(self.keys.stats, name, value - self._pushed_stats[name])
                    self._pushed_stats[name] = value
            failures = self.spider.outlet_failures[self._failures_sent :]
            if failures:
                pipe.rpush(self.keys.failures, *failures)
                self._failures_sent += len(failures)
            pipe.execute()

    def _requeue_dead(self) -> int:
        moved = requeue_dead_workers(self.server, self.keys, me=self.id)
        for worker, count in moved.items():
            logger.warning(
                "Worker %s is gone: %d requests it had taken are back in the queue", worker, count
            )
        total = sum(moved.values())
        self.requeued += total
        return total

    def _throttle(self) -> None:
        # Redis holds the page queue in memory: when the writer falls behind, stop
        # fetching until it catches up rather than fill the server.
        engine = self.crawler.engine
        waiting = self.server.llen(self.keys.pages)
        if not self._paused and waiting >= self.max_pages:
            logger.warning("The writer is %d pages behind: pausing until it catches up", waiting)
            engine.pause()
            self._paused = True
        elif self._paused and waiting <= self.max_pages // 2:
            logger.info("The writer caught up (%d pages queued): resuming", waiting)
            engine.unpause()
            self._paused = False

    def _wake_engine(self) -> None:
        # Scrapy looks at an empty scheduler again only every 5 s (its slot heartbeat).
        # Requests other workers queue, and the idle check, should not wait that long:
        # ask the engine's next-call to run now. Private API; without it the engine's
        # own heartbeat still gets there.
        if self._paused:
            return
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    # -- idle --------------------------------------------------------------------------

    def may_close(self) -> bool:
        """Called when this worker has nothing to do: has the whole run had nothing for IDLE s?"""
        # Scrapy says idle only when no request is in progress here, so everything this
        # worker took is finished, whether or not the collector has run the finalizers.
        self._finished.clear()
        self.server.delete(self.inflight_key)
        busy = self._requeue_dead() > 0 or self.server.llen(self.keys.requests) > 0
        if not busy:
            alive, _ = worker_states(self.server, self.keys)
            others = [worker for worker in alive if worker != self.id]
            # Another worker's page may yet lead to more requests.
            busy = inflight_count(self.server, self.keys, others) > 0 or self._seeding_elsewhere(
                alive
            )
        if busy:
            self._idle_since = None
            return False
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
            logger.info(
                "The shared queue is empty; leaving in %g s unless work arrives",
                self.idle_seconds,
            )
        return now - self._idle_since >= self.idle_seconds

    def _seeding_elsewhere(self, alive: list[str]) -> bool:
        holder = text(self.server.get(self.keys.seeding))
        return holder not in (None, SEEDING_DONE, self.id) and holder in alive


class CountingSet(set):
    """The spider's `discovered` set, whose new members are also counted in Redis.

    Membership stays per worker on purpose. A shared set would be marked when a page
    is parsed, before the requests it yields are queued: a worker dying in between
    would leave URLs "discovered" that no worker requests again, even after its page
    is fetched anew. Redis only counts distinct discoveries for the run's record.
    """

    def __init__(self) -> None:
        super().__init__()
        self._new: list[str] = []

    def add(self, key: str) -> None:
        if key not in self:
            self._new.append(key)
        super().add(key)

    def take_new(self) -> list[str]:
        new, self._new = self._new, []
        return new


class RedisArchive:
    """What the spider asks of its archive, answered without one: workers have no database.

    Whether an article is archived comes from the set of url keys the writer keeps;
    what the spider would write goes to the writer's queue. Monitoring needs the
    archive's history (earlier crawls, validators, bodies), which a worker does not
    have: a distributed run sends no conditional requests and re-checks nothing.
    """

    outcomes: dict[str, int] = {}  # noqa: RUF012 - nothing is stored here; read-only

    def __init__(self, worker: Worker):
        self.worker = worker

    def is_known(self, url: str) -> bool:
        return bool(self.worker.server.sismember(self.worker.keys.archived, url_key(url)))

    def touch(self, url: str, seen_at: str | None = None) -> None:
        self.worker.push_seen(url, seen_at or utc_now())

    def ingest(self, page: RawPage, run_id: int | None = None, **_: Any) -> None:
        self.worker.push_page(page)

    def last_crawl(self, outlets: list[str]) -> None:
        return None

    def first_crawl(self, outlets: list[str]) -> None:
        return None

    def due_rechecks(self, outlet: str, mode: str) -> list[dict]:
        return []

    def validators(self, url: str) -> dict[str, str]:
        return {}

    def known_body(self, url: str, body: bytes) -> bool:
        return False


class PageQueuePipeline:
    """Every RawPage goes to the writer's queue in Redis (ArchivePipeline is off)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self._robots_checked, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageQueuePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        self.crawler.spider.worker.push_page(item)
        return None

    def _robots_checked(self, response: Response, request: Request, spider: Any = None) -> None:
        # As ArchivePipeline does: Scrapy's robots.txt check is a fetch of its own,
        # outside the spider's callbacks; it gets its row in `fetches` too.
        spider = self.crawler.spider
        if request.callback is not NO_CALLBACK or not getattr(spider, "worker", None):
            return
        outlet = next((o.slug for o in spider.outlets if o.owns(response.url)), None)
        if outlet is None:
            return
        spider.worker.push_page(
            RawPage(
                url=request.url,
                final_url=response.url,
                outlet=outlet,
                role="robots",
                status=response.status,
                body=response.body,
                fetched_at=utc_now(),
                found_via="robots-check",
            )
        )


class WorkerSpider(OutletsSpider):
    """The outlets spider, as one of many workers sharing a Redis queue."""

    name = "worker"
    custom_settings = WORKER_SETTINGS

    def __init__(
        self,
        seeds: str = "seeds/outlets.toml",
        outlet: str | None = None,
        since: str | None = None,
        **kwargs: Any,
    ):
        # Raw captures are written by the writer, from the same RawPages.
        kwargs["warc"] = "none"
        super().__init__(seeds=seeds, outlet=outlet, since=since, **kwargs)
        self.scope = Scope.from_file(seeds, outlet, since)
        self.discovered = CountingSet()
        self.close_reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.worker = Worker(crawler, spider)
        # Set before spider_opened, so the base spider never opens a database.
        spider.archive = RedisArchive(spider.worker)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        # One worker seeds the run; if it dies before it is done, the next to ask
        # seeds again (the shared filter drops what it had already queued).
        while True:
            turn = self.worker.seeding_turn()
            if turn == "done":
                return
            if turn == "mine":
                logger.info("Seeding the run: %s", ", ".join(o.slug for o in self.outlets))
                async for request in super().start():
                    yield request
                self.worker.seeding_done()
                return
            await asyncio.sleep(self.worker.tick)

    def _idle(self, spider: Any = None) -> None:
        if not self.worker.may_close():
            raise DontCloseSpider

    def _closed(self, spider: Any = None, reason: str = "") -> None:
        self.close_reason = reason


# -- python -m crawler.distributed: what `make worker` runs ----------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.distributed",
        description="Crawl as one of many workers sharing a Redis queue (see docs/distributed.md).",
    )
    parser.add_argument("--seeds", default="seeds/outlets.toml", help="outlets file")
    parser.add_argument("--outlet", default="", help="crawl only this outlet (slug)")
    parser.add_argument("--since", default="", help="skip articles published before YYYY-MM-DD")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help=f"the shared Redis (default $REDIS_URL or {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=IDLE_SECONDS,
        help="leave once the shared queue has been empty this many seconds",
    )
    add_scrapy_options(parser)
    return parser.parse_args(argv)


def check_scope(client: redis.Redis, keys: Keys, scope: Scope) -> None:
    """Refuse before Scrapy starts if Redis holds a live run of other seeds."""
    alive, _ = worker_states(client, keys)
    current = text(client.get(keys.scope))
    running = alive or client.llen(keys.requests) > 0
    if running and current is not None and current != scope.digest:
        raise DistributedError(
            f"this Redis holds a run of other seeds ({len(alive)} workers, "
            f"{client.llen(keys.requests)} requests queued): every worker of a run needs the "
            "same SEEDS, OUTLET and SINCE. Wait for that run to end, or use another "
            "REDIS_URL (e.g. another database number)."
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        select_outlets(load_seeds(args.seeds), args.outlet or None)
        parse_since(args.since)
    except (SeedsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        settings = project_settings(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings.set("REDIS_URL", args.redis_url, priority="cmdline")
    settings.set("VEILLE_IDLE", args.idle, priority="cmdline")
    try:
        keys = worker_keys(settings)
        client = connect(args.redis_url)
        check_scope(client, keys, Scope.from_file(args.seeds, args.outlet, args.since))
        client.close()
    except DistributedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, seeds=args.seeds, outlet=args.outlet, since=args.since)
    process.start()
    spider: WorkerSpider = crawler.spider
    worker = spider.worker
    reason = spider.close_reason or "not started"
    if worker.verdict == "other":
        print("error: another run with other seeds is using this Redis", file=sys.stderr)
        return 2
    requests = crawler.stats.get_value("downloader/request_count", 0)
    print(
        f"Worker {worker.id} {reason}: {requests} requests, {worker.pages_pushed} pages "
        f"sent to the writer"
        + (f", {worker.requeued} requests of dead workers re-queued" if worker.requeued else "")
    )
    return 0 if reason == "finished" else 1


if __name__ == "__main__":
    # Run under its importable name, so that Scrapy's settings (which name classes of
    # crawler.distributed) and this entry point share one copy of the module.
    from crawler.distributed import main as _main

    sys.exit(_main())
