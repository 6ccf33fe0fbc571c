"""Re-extraction speed: `make reextract` pages/s against bare trafilatura, one run.

Builds a WARC set of N article pages by crawling the bundled demo outlet once
(served on 127.0.0.1) and repeating its article records under distinct URLs,
then times, on the same pages and in the same run:

- baseline: `trafilatura.extract(html, url=url, with_metadata=True)`, one core;
- veille: `python -m archive reextract` into an empty archive (extraction in a
  process pool, writes with FTS, versions and WARC references).

Usage: .venv/bin/python bench/bench_reextract.py [--pages 840]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import trafilatura
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent


def demo_server():
    spec = importlib.util.spec_from_file_location(
        "demo_outlet_server", ROOT / "tests/fixtures/demo_outlet/server.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_outlet_server"] = module
    spec.loader.exec_module(module)
    server = module.make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def crawl_demo(folder: Path) -> Path:
    server, url = demo_server()
    seeds = folder / "outlets.toml"
    seeds.write_text(
        f'[[outlet]]\nslug = "turquie-demain"\nname = "Turquie Demain"\nhomepage = "{url}"\n',
        encoding="utf-8",
    )
    warc = folder / "crawl-warc"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler",
            "--seeds",
            str(seeds),
            "--db",
            str(folder / "c.db"),
            "--warc",
            str(warc),
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-L",
            "WARNING",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    server.shutdown()
    return warc


def article_records(warc: Path) -> list:
    records = []
    for path in sorted(warc.rglob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if (
                    record.rec_type == "response"
                    and record.rec_headers.get_header("WARC-Veille-Role") == "article"
                ):
                    records.append(
                        (record.rec_headers, record.http_headers, record.content_stream().read())
                    )
    return records


def build_workload(records: list, pages: int, target: Path) -> list[tuple[str, bytes]]:
    """N article records under distinct URLs in one WARC file; returns (url, html)."""
    target.mkdir(parents=True, exist_ok=True)
    bodies: list[tuple[str, bytes]] = []
    with open(target / "veille-00001-bench-0001.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for n in range(pages):
            rec_headers, http_headers, body = records[n % len(records)]
            uri = rec_headers.get_header("WARC-Target-URI").rstrip("/") + f"-{n}/"
            headers = {
                k: v
                for k, v in rec_headers.headers
                if k.startswith("WARC-Veille-") and k != "WARC-Veille-Requested-URI"
            }
            headers["WARC-Veille-Requested-URI"] = uri
            record = writer.create_warc_record(
                uri,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers,
                warc_headers_dict=headers,
            )
            writer.write_record(record)
            bodies.append((uri, body))
    return bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=840)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        folder = Path(tmp)
        records = article_records(crawl_demo(folder))
        warc = folder / "warc"
        bodies = build_workload(records, args.pages, warc)
        started = time.perf_counter()
        for url, body in bodies:
            trafilatura.extract(body.decode("utf-8", "replace"), url=url, with_metadata=True)
        bare = len(bodies) / (time.perf_counter() - started)
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "archive",
                "reextract",
                "--db",
                str(folder / "r.db"),
                "--warc",
                str(warc),
                "--seeds",
                str(folder / "none.toml"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        veille = len(bodies) / (time.perf_counter() - started)
    print(f"machine: {os.cpu_count()} cores")
    print(f"pages: {len(bodies)} demo article pages ({len(records)} distinct), one WARC file")
    print(f"bare trafilatura.extract(with_metadata=True), 1 core: {bare:7.1f} pages/s  (1.00x)")
    print(
        f"make reextract (pool, writes, FTS, versions):      {veille:7.1f} pages/s  "
        f"({veille / bare:.2f}x)"
    )
    print(done.stdout.strip().splitlines()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
