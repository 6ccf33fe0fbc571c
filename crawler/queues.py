"""The crawl queue kept on disk (JOBDIR), safe against a disk that fills up.

Scrapy's disk queue appends each request with one `write()`. On a full disk that
write can stop part-way without an error, leaving a cut-short record that the
queue later hands back as an unreadable pickle. This queue checks each record
went down whole; if it did not, it takes the partial bytes back and tells the
scheduler the request cannot go to disk, and the scheduler keeps it in memory
(its contract for such requests). A queue damaged some other way (a crash
mid-write) is dropped with a warning instead of stopping the crawl: its
requests are rediscovered by the next crawl.
"""

from __future__ import annotations

import copy
import errno
import logging
import os
import struct
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.squeues import PickleFifoDiskQueue

from archive.store import disk_full

logger = logging.getLogger(__name__)


class QueueDiskFull(ValueError):
    """A request that could not be written to the disk queue: the scheduler keeps it
    in memory."""


class DiskQueue(PickleFifoDiskQueue):
    """Scrapy's pickling FIFO disk queue, with whole-record writes and damage-tolerant
    reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except OSError as exc:
            if not disk_full(exc):
                raise
            raise QueueDiskFull(str(exc)) from exc

    def push(self, request: Request) -> None:
        info = copy.deepcopy(self.info)
        head_file = self.headf
        path = Path(head_file.name)
        start = path.stat().st_size
        try:
            super().push(request)
        except OSError as exc:
            if not disk_full(exc):
                raise
            self._take_back(info, head_file, start)
            raise QueueDiskFull(str(exc)) from exc
        if not self._written_whole(path, start):
            self._take_back(info, head_file, start)
            problem = OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (record cut short)")
            raise QueueDiskFull(str(problem)) from problem

    def _written_whole(self, path: Path, start: int) -> bool:
        written = path.stat().st_size - start
        if written < self.szhdr_size:
            return False
        with path.open("rb") as chunk:
            chunk.seek(start)
            (size,) = struct.unpack(self.szhdr_format, chunk.read(self.szhdr_size))
        return written == self.szhdr_size + size

    def _take_back(self, info: dict[str, Any], head_file: Any, start: int) -> None:
        """Undo a push: the chunk file back to its length before, the queue's counters
        back to theirs."""
        os.truncate(head_file.name, start)
        self.info = info
        if self.headf is not head_file:  # the push opened a new chunk file
            self.headf.close()
            Path(self.headf.name).unlink(missing_ok=True)
            self.headf = self._openchunk(info["head"][0], "ab+")

    def pop(self) -> Request | None:
        try:
            return super().pop()
        except Exception as exc:  # any damage: a bad pickle, header or request dict
            logger.warning(
                "The crawl queue kept on disk at %s is damaged (%s: %s); its %d remaining "
                "requests are dropped and will be found again by the next crawl",
                self.path,
                type(exc).__name__,
                exc,
                len(self),
            )
            self.clear()
            return None
