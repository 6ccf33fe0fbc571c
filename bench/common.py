"""What the crawl benchmarks share: the machine, crawl processes, RSS of a process tree."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A benchmark stopped with SIGTERM unwinds like Ctrl-C, so nginx and crawls it started
# are stopped by their context managers instead of being left behind.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
DATA = ROOT / "data" / "bench"
PYTHON = sys.executable

# Politeness lifted for our own server on loopback (what SCRAPY_ARGS would pass).
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS=32",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=32",
]


def machine() -> str:
    """Cores, memory and CPU model: what every figure depends on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    with contextlib.suppress(OSError, AttributeError):
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}), "
        f"{mem_kb / 1024 / 1024:.0f} GB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM it if the benchmark dies without stopping it."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def write_seeds(path: Path, base: str, slug: str = "bosphore") -> Path:
    path.write_text(
        "[[outlet]]\n"
        f'slug = "{slug}"\n'
        'name = "Le Bosphore Quotidien"\n'
        f'homepage = "{base.rstrip("/")}/"\n'
        'language = "fr"\n',
        encoding="utf-8",
    )
    return path


# -- memory of a process tree ----------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_of(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+)", status)
    return int(match.group(1)) if match else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RssSampler:
    """Peak RSS of a process and all its descendants (pool workers included), and the CPU
    time each of them used (as last seen: a process's figure stops when it exits)."""

    pid: int
    every: float = 0.2
    peak_total_kb: int = 0
    peak_main_kb: int = 0
    peak_processes: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    cpu: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_of(self.pid)
            sizes = {p: rss_kb(p) for p in pids}
            for p in pids:
                self.cpu[p] = max(self.cpu.get(p, 0.0), cpu_seconds(p))
            total = sum(sizes.values())
            main = sizes.get(self.pid, 0)
            if total:
                self.samples.append((time.monotonic() - self.started, main, total))
            self.peak_total_kb = max(self.peak_total_kb, total)
            self.peak_main_kb = max(self.peak_main_kb, main)
            self.peak_processes = max(self.peak_processes, sum(1 for s in sizes.values() if s))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def main_cpu(self) -> float:
        return self.cpu.get(self.pid, 0.0)

    @property
    def children_cpu(self) -> float:
        return sum(seconds for pid, seconds in self.cpu.items() if pid != self.pid)


# -- a crawl process -------------------------------------------------------------------


@dataclass
class CrawlResult:
    wall_seconds: float
    crawl_seconds: float  # Scrapy's elapsed_time_seconds: open to close of the spider
    returncode: int
    stdout: str
    stderr: str
    rss: RssSampler

    def stat(self, name: str) -> float | None:
        match = re.search(rf"'{re.escape(name)}': ([0-9.]+)", self.stderr)
        return float(match.group(1)) if match else None


def crawl(
    seeds: Path,
    db: Path,
    *settings: str,
    warc: str = "none",
    timeout: float = 3600,
    log_level: str = "INFO",
    launcher: list[str] | None = None,
) -> CrawlResult:
    """One `python -m crawler` process with politeness lifted, its RSS sampled.

    `launcher` replaces `-m crawler` (a script taking the same arguments after its own).
    """
    command = [
        PYTHON,
        *(launcher or ["-m", "crawler"]),
        "--seeds",
        str(seeds),
        "--db",
        str(db),
        "--warc",
        warc,
        "-L",
        log_level,
        *FAST,
        *settings,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    sampler = RssSampler(process.pid).start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        process.terminate()  # Scrapy's graceful stop; the pool's workers follow it
        process.wait(timeout=60)
        raise
    finally:
        sampler.stop()
    wall = time.monotonic() - started
    result = CrawlResult(wall, 0.0, process.returncode, stdout, stderr, sampler)
    result.crawl_seconds = result.stat("elapsed_time_seconds") or wall
    if process.returncode != 0:
        sys.stderr.write(stderr[-3000:])
        raise RuntimeError(f"crawl failed ({process.returncode}): {' '.join(command)}")
    return result


def archived_count(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("select count(*) from articles").fetchone()[0]
    finally:
        conn.close()


def fresh(path: Path) -> Path:
    """An empty archive location: the database and its WAL files removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    # A crawl stopped half-way keeps its queue beside the archive (JOBDIR, see
    # crawler/__main__.py); the next crawl would resume it instead of starting over.
    for jobdir in (path.parent / "jobs").glob(f"{path.stem}-*"):
        shutil.rmtree(jobdir, ignore_errors=True)
    return path
