"""One writer per archive: a crawl, re-extraction or import holds the archive's lock.

SQLite would serialise two writers, but two crawls of the same outlets would
fetch everything twice and interleave their runs. The lock is an flock on a file
beside the database, so the kernel releases it when the holder dies, even by
SIGKILL: a crashed crawl never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO


class ArchiveBusy(RuntimeError):
    """Another process is writing to this archive."""


class ArchiveLock:
    def __init__(self, db_path: str | Path):
        self.path = Path(f"{db_path}.lock")
        self._file: TextIO | None = None

    def acquire(self, what: str = "crawl") -> ArchiveLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the life of the run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            db = str(self.path)[: -len(".lock")]
            raise ArchiveBusy(
                f"{db} is being written by {holder}; wait for it to finish or use another DB"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"a {what} (pid {os.getpid()})")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
