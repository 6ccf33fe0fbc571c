"""Bad local input: a clear message, a non-zero exit, and the existing archive intact."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, run_crawl
from scrapy import Request


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_corrupt_archive_is_reported_and_left_untouched(tmp_path, demo_seeds):
    db = tmp_path / "archive.db"
    garbage = b"this is not an SQLite archive\n" * 500
    db.write_bytes(garbage)
    result = run_crawl(demo_seeds, db)
    assert result.returncode == 2
    assert f"cannot use the archive {db}: file is not a database" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == garbage


def test_an_archive_that_cannot_be_created_is_reported(tmp_path, demo_seeds):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive's folder should be")
    result = run_crawl(demo_seeds, blocker / "archive.db", "--warc", "none")
    assert result.returncode == 2
    assert f"cannot create the archive {blocker / 'archive.db'}: {blocker} is not a folder" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB filesystem: a tmpfs mount (the tests run as root, as CI does)."""
    disk = tmp_path / "disk"
    assert mount_tmpfs(disk, "4m"), "tmpfs could not be mounted"
    yield disk
    unmount(disk)


def partial_archive(demo_crawl, folder: Path, keep: int, keep_listings: bool = False) -> Path:
    """A copy of the demo archive holding only its first `keep` articles."""
    source = sqlite3.connect(demo_crawl.db)
    path = folder / "partial.db"
    partial = sqlite3.connect(path)
    source.backup(partial)
    source.close()
    for table, key in (
        ("articles", "id"),
        ("article_urls", "article_id"),
        ("article_versions", "article_id"),
    ):
        partial.execute(f"delete from {table} where {key} > ?", [keep])
    if not keep_listings:
        partial.execute("delete from http_cache")  # so the listings are read again
    partial.commit()
    partial.execute("vacuum")
    partial.close()
    return path


def fill(disk: Path, leave_kb: int) -> Path:
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.write_bytes(b"\0" * max(0, free - leave_kb * 1024))
    return filler


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        return conn.execute("select count(*) from articles").fetchone()[0]
    finally:
        conn.close()


def test_a_crawl_refuses_to_start_on_a_full_disk(small_disk, tmp_path, demo_seeds, demo_crawl):
    db = small_disk / "archive.db"
    shutil.copy(partial_archive(demo_crawl, tmp_path, 10), db)
    before = db.read_bytes()
    fill(small_disk, 96)
    result = run_crawl(demo_seeds, db, "--warc", str(small_disk / "warc"))
    assert result.returncode == 2
    assert "MB free where the archive" in result.stderr and "VEILLE_MIN_FREE_MB" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before


def test_a_disk_filling_up_mid_crawl_stops_it_cleanly_and_loses_nothing(
    small_disk, tmp_path, demo_seeds, demo_crawl, demo_articles, monkeypatch
):
    monkeypatch.setenv("VEILLE_MIN_FREE_MB", "0")  # past the start-up check, as if it filled later
    db = small_disk / "archive.db"
    shutil.copy(partial_archive(demo_crawl, tmp_path, 10), db)
    before = count(db)
    filler = fill(small_disk, 160)
    result = run_crawl(demo_seeds, db, "--warc", str(small_disk / "warc"))
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "No space left on device" in output or "disk is full" in output
    assert "Traceback" not in result.stderr, result.stderr[result.stderr.find("Traceback") - 800 :][
        :3000
    ]
    assert count(db) >= before
    # Space again: the next crawl completes the archive, each article once.
    filler.unlink()
    result = run_crawl(demo_seeds, db, "--warc", str(small_disk / "warc"))
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    total, distinct = conn.execute("select count(*), count(distinct url) from articles").fetchone()
    conn.close()
    assert total == distinct == len(demo_articles)


def test_listings_read_by_a_run_that_did_not_finish_are_followed_again(
    tmp_path, demo_seeds, demo_crawl, demo_articles
):
    """A crawl stopped (killed, or by a full disk) after reading the outlet's listings but
    before archiving what they list: the next crawl must not skip them as unchanged."""
    db = partial_archive(demo_crawl, tmp_path, 10, keep_listings=True)
    conn = sqlite3.connect(db)
    conn.execute(
        "insert into runs (kind, started, status, outlets) select kind, started, 'running', "
        "outlets from runs where status = 'finished' order by id desc limit 1"
    )
    stopped_run = conn.execute("select max(id) from runs").fetchone()[0]
    listings = conn.execute("update http_cache set run_id = ?", [stopped_run]).rowcount
    conn.commit()
    conn.close()
    assert listings > 0
    result = run_crawl(demo_seeds, db, "--warc", "none")
    assert result.returncode == 0, result.stderr[-2000:]
    assert count(db) == len(demo_articles)
    assert "unchanged since the last crawl" not in result.stdout


def test_archive_commands_refuse_a_corrupt_archive(tmp_path):
    db = tmp_path / "archive.db"
    db.write_bytes(b"garbage" * 100)
    warc = tmp_path / "warc"
    warc.mkdir()
    (warc / "x.warc.gz").write_bytes(b"")
    result = subprocess.run(
        [".venv/bin/python", "-m", "archive", "reextract", "--db", str(db), "--warc", str(warc)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 3 and "file is not a database" in result.stderr
    assert db.read_bytes() == b"garbage" * 100


def disk_queue(folder: Path):
    """The crawl's disk queue as the scheduler builds it, for a spider-less request."""
    from crawler.queues import DiskQueue

    return DiskQueue.from_crawler(SimpleNamespace(spider=None), str(folder))


def test_a_full_disk_never_leaves_a_cut_short_request_in_the_crawl_queue(small_disk):
    from crawler.queues import QueueDiskFull

    queue = disk_queue(small_disk / "queue")
    filler = fill(small_disk, 64)
    kept, refused = [], 0
    for number in range(200):
        url = f"http://outlet.test/article-{number}"
        try:
            # Records of ~3 KB against 4 KB pages: the disk runs out part-way through one.
            queue.push(Request(url, meta={"padding": "x" * (2500 + 37 * number)}))
        except QueueDiskFull:
            refused += 1
        else:
            kept.append(url)
    filler.unlink()  # room to save the queue's state, as when the crawl stops
    queue.close()
    assert kept and refused, (len(kept), refused)
    resumed = disk_queue(small_disk / "queue")  # as a resumed crawl reopens it
    popped = []
    while (request := resumed.pop()) is not None:
        popped.append(request.url)
    assert popped == kept


def test_a_damaged_crawl_queue_is_dropped_with_a_warning_not_a_crash(tmp_path, caplog):
    queue = disk_queue(tmp_path / "queue")
    urls = [f"http://outlet.test/article-{number}" for number in range(5)]
    for url in urls:
        queue.push(Request(url))
    queue.close()
    chunk = tmp_path / "queue" / "q00000"
    chunk.write_bytes(chunk.read_bytes()[:-20])  # a crash in the middle of the last write
    resumed = disk_queue(tmp_path / "queue")
    popped = []
    while (request := resumed.pop()) is not None:
        popped.append(request.url)
    assert popped == urls[:4]
    assert "crawl queue kept on disk" in caplog.text and "is damaged" in caplog.text
    assert len(resumed) == 0
