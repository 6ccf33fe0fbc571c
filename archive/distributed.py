"""What crawler workers and the archive writer of a distributed crawl agree on, in Redis.

Workers (`crawler/distributed.py`, any number, on any machine) share one request
queue and one duplicate filter, and push every page they fetch to a page queue.
One writer (`archive/writer.py`) drains that queue into the archive through
`Archive.store`. This module holds the contract between the two sides: key names,
the page message format, which workers are alive, and the seeds of the run. It
imports neither Scrapy nor SQLite, so both sides can use it.

Everything lives under one prefix (default "veille") in one Redis database:

    {p}:requests            list    the shared request queue (LPUSH in, taken from the right)
    {p}:dupefilter          set     fingerprints of every request queued in this run
    {p}:workers             set     ids of the workers in the run
    {p}:alive:{id}          string  a worker's heartbeat: pages it sent; expires (VEILLE_WORKER_TTL)
    {p}:inflight:{id}       list    requests a worker has taken and not finished
    {p}:seeding             string  id of the worker seeding the run, then "done"
    {p}:scope               string  digest of the run's seeds (workers of one run share them)
    {p}:scopes              hash    digest -> seeds, outlet, since (pages name their scope)
    {p}:pages               list    raw pages and "seen again" notes for the writer
    {p}:pages:processing    list    the batch the writer is storing (reliable-queue pattern)
    {p}:archived            set     url keys of archived articles (the writer keeps it)
    {p}:writer              string  the writer's lock, with a TTL it keeps renewing
    {p}:count:discovered    set     url keys discovered by any worker (for the run's counts)
    {p}:count:known         set     url keys skipped as already archived
    {p}:stats               hash    counters summed over workers (requests, ...)
    {p}:failures            list    outlets that could not be reached

The request queue, the duplicate filter and the in-flight lists are the workers'
business; the page queue, the archived set and the run counts are the writer's.
A dead worker is one still listed in `{p}:workers` whose heartbeat has expired:
whoever notices first (a live worker, or the writer once no worker is left) moves
its in-flight requests back to the queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from archive.page import RawPage
from archive.seeds import Outlet, load_seeds, select_outlets

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "veille"
SEEDING_DONE = "done"
# Version tag of page messages, so that a writer never misreads a future format.
MESSAGE_VERSION = 1
_PREFIX_RE = re.compile(r"[A-Za-z0-9_.:-]+")


class DistributedError(RuntimeError):
    """A distributed crawl cannot go on; str(error) is the message for the user."""


@dataclass(frozen=True)
class Keys:
    """The Redis key names of one distributed crawl."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        # scrapy-redis formats queue keys with `%`, and a space or a brace in a key is
        # always a typo: keep prefixes plain.
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise DistributedError(
                f"Redis key prefix must be letters, digits and _.:- only, got {self.prefix!r}"
            )

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    requests = property(lambda self: self._key("requests"))
    dupefilter = property(lambda self: self._key("dupefilter"))
    workers = property(lambda self: self._key("workers"))
    seeding = property(lambda self: self._key("seeding"))
    scope = property(lambda self: self._key("scope"))
    scopes = property(lambda self: self._key("scopes"))
    pages = property(lambda self: self._key("pages"))
    processing = property(lambda self: self._key("pages:processing"))
    archived = property(lambda self: self._key("archived"))
    writer = property(lambda self: self._key("writer"))
    discovered = property(lambda self: self._key("count:discovered"))
    known = property(lambda self: self._key("count:known"))
    stats = property(lambda self: self._key("stats"))
    failures = property(lambda self: self._key("failures"))

    @property
    def alive_prefix(self) -> str:
        return self._key("alive:")

    def alive(self, worker: str) -> str:
        return self.alive_prefix + worker

    def inflight(self, worker: str) -> str:
        return self._key(f"inflight:{worker}")

    def run_counts(self) -> list[str]:
        """Keys holding the counts of the run the writer is recording."""
        return [self.discovered, self.known, self.stats, self.failures]


def connect(url: str) -> redis.Redis:
    """A client for `url`, checked with a PING; DistributedError says why it failed."""
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30
        )
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise DistributedError(f"cannot reach Redis at {display_url(url)}: {exc}") from None
    return client


def display_url(url: str) -> str:
    """A Redis URL fit for logs: the password is never printed."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def text(value: bytes | str | None) -> str | None:
    """Redis answers bytes (binary-safe clients); ids and digests are ASCII text."""
    if value is None or isinstance(value, str):
        return value
    return value.decode("utf-8")


# -- the run's seeds -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a run crawls: the seeds file's text, the OUTLET chosen, SINCE.

    Every worker of a run must crawl the same scope, since any of them may take any
    queued request. The writer needs no seeds file: it reads the scope of each page
    from Redis (extraction rules and expected languages come from it).
    """

    seeds: str
    outlet: str = ""
    since: str = ""

    @property
    def digest(self) -> str:
        payload = json.dumps([self.seeds, self.outlet, self.since], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(
            {"seeds": self.seeds, "outlet": self.outlet, "since": self.since}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Scope:
        fields = json.loads(data)
        return cls(fields["seeds"], fields.get("outlet", ""), fields.get("since", ""))

    @classmethod
    def from_file(cls, path: str, outlet: str | None = "", since: str | date | None = "") -> Scope:
        with open(path, encoding="utf-8") as handle:
            seeds = handle.read()
        return cls(seeds, outlet or "", str(since or ""))

    @property
    def since_date(self) -> date | None:
        return date.fromisoformat(self.since) if self.since else None

    def outlets(self) -> list[Outlet]:
        """The outlets of the run, parsed by the same code as a seeds file."""
        # load_seeds reads a path (its errors cite file and line); the text was
        # checked by the worker that published it, so a temporary file is enough.
        handle, path = tempfile.mkstemp(suffix=".toml", prefix="veille-scope-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.seeds)
            return select_outlets(load_seeds(path), self.outlet or None)
        finally:
            os.unlink(path)


def publish_scope(client: redis.Redis, keys: Keys, scope: Scope) -> None:
    """Keep the scope by digest: pages still queued name the scope they were fetched under."""
    client.hset(keys.scopes, scope.digest, scope.to_json())


def load_scope(client: redis.Redis, keys: Keys, digest: str) -> Scope | None:
    data = client.hget(keys.scopes, digest)
    return Scope.from_json(data) if data is not None else None


# -- messages to the writer --------------------------------------------------------------
#
# A message is one line of JSON (what it is, the page's fields), a newline, then the
# page's body compressed with zlib. Not pickle: the writer must never run code that
# came out of a shared Redis. Not base64 inside JSON: bodies are most of the bytes,
# and raw bytes after the header cost nothing to frame. zlib level 1 divides HTML by
# about four for ~1 ms per 150 KB page, which bounds Redis's memory when the writer
# falls behind and the traffic between machines.


@dataclass
class Message:
    kind: str  # "page": a fetch to store; "seen": an archived article listed again
    scope: str = ""
    page: RawPage | None = None
    url: str = ""
    seen_at: str = ""


def encode_page(page: RawPage, scope: str) -> bytes:
    fields = page.to_dict()
    body = fields.pop("body") or b""
    header = {"v": MESSAGE_VERSION, "kind": "page", "scope": scope, "page": fields}
    return _header(header) + zlib.compress(body, 1)


def encode_seen(url: str, seen_at: str, scope: str) -> bytes:
    header = {"v": MESSAGE_VERSION, "kind": "seen", "scope": scope, "url": url, "at": seen_at}
    return _header(header)


def _header(header: dict[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so the first b"\n" ends the header.
    return json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode_message(data: bytes) -> Message:
    """A message back from its bytes; ValueError if it is not one this code can read."""
    head, sep, rest = data.partition(b"\n")
    if not sep:
        raise ValueError("not a veille message (no header line)")
    header = json.loads(head)
    if header.get("v") != MESSAGE_VERSION:
        raise ValueError(
            f"message version {header.get('v')!r}, this writer reads {MESSAGE_VERSION}"
        )
    kind = header.get("kind")
    if kind == "page":
        fields = dict(header["page"])
        fields["body"] = zlib.decompress(rest) if rest else b""
        return Message("page", header.get("scope", ""), page=RawPage.from_dict(fields))
    if kind == "seen":
        return Message("seen", header.get("scope", ""), url=header["url"], seen_at=header["at"])
    raise ValueError(f"unknown message kind {kind!r}")


# -- workers, alive and dead ---------------------------------------------------------------


def worker_states(client: redis.Redis, keys: Keys) -> tuple[list[str], list[str]]:
    """(alive, dead) ids among the workers listed in the run."""
    listed = sorted(text(member) for member in client.smembers(keys.workers))
    if not listed:
        return [], []
    with client.pipeline(transaction=False) as pipe:
        for worker in listed:
            pipe.exists(keys.alive(worker))
        flags = pipe.execute()
    alive = [worker for worker, flag in zip(listed, flags, strict=True) if flag]
    dead = [worker for worker, flag in zip(listed, flags, strict=True) if not flag]
    return alive, dead


# Recover one worker if it is dead: still listed, heartbeat expired. Atomic, so that a
# worker leaving cleanly at that moment (unlisted, heartbeat deleted) is not mistaken
# for a dead one, and two recoverers never move one request twice.
REQUEUE_LUA = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local moved = 0
while redis.call('LMOVE', KEYS[3], KEYS[4], 'RIGHT', 'RIGHT') do moved = moved + 1 end
redis.call('SREM', KEYS[1], ARGV[1])
return moved
"""


def requeue_dead_workers(client: redis.Redis, keys: Keys, me: str | None = None) -> dict[str, int]:
    """Move the requests dead workers had taken back to the queue; {worker: requests moved}.

    They go to the consumers' end of the queue: what was interrupted is taken first.
    A worker only stalled past its TTL (not dead) lists itself again at its next
    heartbeat; the requests it was still working on are then fetched twice, which the
    archive absorbs (one article per canonical URL).
    """
    _, dead = worker_states(client, keys)
    requeue = client.register_script(REQUEUE_LUA)
    moved: dict[str, int] = {}
    for worker in dead:
        if worker == me:
            continue
        count = requeue(
            keys=[keys.workers, keys.alive(worker), keys.inflight(worker), keys.requests],
            args=[worker],
        )
        if count >= 0:
            moved[worker] = count
    return moved


def inflight_count(client: redis.Redis, keys: Keys, workers: list[str]) -> int:
    if not workers:
        return 0
    with client.pipeline(transaction=False) as pipe:
        for worker in workers:
            pipe.llen(keys.inflight(worker))
        return sum(pipe.execute())
