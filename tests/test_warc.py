"""Raw captures in WARC: written by the demo crawl, checked by warcio, rebuilt offline."""

from __future__ import annotations

import gzip
import io
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import ROOT, run_crawl
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc import WarcRef, read_response, warc_files

WARCIO = str(Path(sys.executable).with_name("warcio"))
VOLATILE = {"run_id", "last_seen"}  # set by the run that stores, not by the page


def article_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        columns = [r[1] for r in conn.execute("pragma table_info(articles)")]
        keep = [c for c in columns if c not in VOLATILE]
        return conn.execute(f"select {', '.join(keep)} from articles order by id").fetchall()
    finally:
        conn.close()


def archive_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_file_passes_warcio_check_and_index(demo_crawl):
    files = warc_files(demo_crawl.warc)
    assert len(files) == 2  # one per run
    for path in files:
        assert path.name.startswith("veille-0000") and path.name.endswith(".warc.gz")
        subprocess.run([WARCIO, "check", "-v", str(path)], check=True, capture_output=True)
        index = subprocess.run(
            [WARCIO, "index", str(path)], check=True, capture_output=True, text=True
        ).stdout
        assert '"warc-type": "warcinfo"' in index.splitlines()[0]
        assert '"warc-type": "response"' in index and '"warc-type": "request"' in index


def test_records_are_warc_1_1_one_gzip_member_each(demo_crawl):
    path = warc_files(demo_crawl.warc)[0]
    with open(path, "rb") as fh:
        records = [(r.rec_type, r.rec_headers.protocol) for r in ArchiveIterator(fh)]
    assert records[0] == ("warcinfo", "WARC/1.1")
    assert {protocol for _, protocol in records} == {"WARC/1.1"}
    data = path.read_bytes()
    assert data.count(b"\x1f\x8b\x08") >= len(records)  # a gzip member per record


def test_each_article_version_points_at_its_raw_page(demo_crawl):
    conn = sqlite3.connect(demo_crawl.db)
    rows = conn.execute(
        "select a.url, v.warc_file, v.warc_offset, v.warc_length from articles a "
        "join article_versions v on v.article_id = a.id and v.version = 1"
    ).fetchall()
    (articles,) = conn.execute("select count(*) from articles").fetchone()
    conn.close()
    assert len(rows) == articles
    for url, file, offset, length in rows[:10]:
        response = read_response(demo_crawl.warc, WarcRef(file, offset, length))
        assert response.page.final_url == url
        assert response.page.status == 200 and b"entry-content" in response.page.body
        assert response.page.outlet == "turquie-demain" and response.page.role == "article"


def test_every_fetch_with_a_response_is_captured(demo_crawl):
    conn = sqlite3.connect(demo_crawl.db)
    missing = conn.execute(
        "select count(*) from fetches where status is not null and warc_file is null"
    ).fetchone()[0]
    conn.close()
    assert missing == 0


def test_reextract_rebuilds_an_identical_archive_offline(demo_crawl, tmp_path):
    warc = tmp_path / "warc"
    shutil.copytree(demo_crawl.warc, warc)
    rebuilt = tmp_path / "rebuilt.db"
    result = archive_cli(
        "reextract",
        "--db",
        str(rebuilt),
        "--warc",
        str(warc),
        "--seeds",
        str(tmp_path / "no-seeds.toml"),
    )
    assert result.returncode == 0, result.stderr
    assert "archived 42" in result.stdout or "archived" in result.stdout
    assert article_rows(rebuilt) == article_rows(demo_crawl.db)
    conn = sqlite3.connect(rebuilt)
    outlets = conn.execute("select slug, homepage from outlets").fetchall()
    conn.close()
    assert outlets == [("turquie-demain", demo_crawl.base_url)]


def test_reextract_reports_changed_articles_and_keeps_versions_consistent(demo_crawl, tmp_path):
    db = tmp_path / "copy.db"
    source = sqlite3.connect(demo_crawl.db)
    target = sqlite3.connect(db)
    source.backup(target)
    source.close()
    # An archive made by an older extraction: one article's text differs from what
    # the current code extracts from the same raw page.
    target.execute("update articles set text = 'xyzzy extraction' where id = 3")
    target.execute(
        "update article_versions set text = 'xyzzy extraction', hash = 'old' where article_id = 3"
    )
    target.commit()
    target.close()
    result = archive_cli("reextract", "--db", str(db), "--warc", str(demo_crawl.warc))
    assert result.returncode == 0, result.stderr
    assert "changed 1," in result.stdout
    conn = sqlite3.connect(db)
    text, version_text = conn.execute(
        "select a.text, v.text from articles a join article_versions v on v.article_id = a.id "
        "where a.id = 3"
    ).fetchone()
    hits = conn.execute(
        "select count(*) from articles_fts where articles_fts match 'xyzzy'"
    ).fetchone()[0]
    conn.close()
    assert text == version_text != "xyzzy extraction"
    assert hits == 0  # FTS follows the update


def test_capture_can_be_switched_off(tmp_path, demo_seeds):
    db = tmp_path / "nowarc.db"
    result = run_crawl(demo_seeds, db, "--warc", "none")
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    refs = conn.execute("select count(*) from article_versions where warc_file is not null")
    assert refs.fetchone()[0] == 0
    conn.close()
    assert not (tmp_path / "warc").exists() and not (ROOT / "none").exists()


def _record(writer: WARCWriter, uri: str, body: bytes, content_type: str, kind="response"):
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    return writer.create_warc_record(
        uri, kind, payload=io.BytesIO(body), length=len(body), http_headers=headers
    )


def test_import_keeps_in_scope_html_and_survives_odd_records(tmp_path, demo_url):
    article = urllib.request.urlopen(  # a realistic article page, moved onto a seeded outlet
        f"{demo_url}2024/01/19/haut-karabakh-bakou-et-erevan-relancent-les-discussions-sur-la"
        "-delimitation-de-leur-frontiere/"
    ).read()
    path = tmp_path / "CC-NEWS-test.warc.gz"
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    in_scope = "https://turquie2023.com/2024/01/19/haut-karabakh-bakou-et-erevan/"
    writer.write_record(_record(writer, in_scope, article, "text/html; charset=utf-8"))
    writer.write_record(
        _record(writer, "https://example.com/2024/01/19/ailleurs/", article, "text/html")
    )
    writer.write_record(
        _record(writer, "https://turquie2023.com/logo.png", b"\x89PNG....", "image/png")
    )
    writer.write_record(
        writer.create_revisit_record(
            in_scope,
            digest="sha1:AAAA",
            refers_to_uri=in_scope,
            refers_to_date="2024-01-19T10:00:00Z",
        )
    )
    complete = buffer.getvalue()
    last = io.BytesIO()
    tail_writer = WARCWriter(last, gzip=True)
    tail_writer.write_record(
        _record(tail_writer, "https://turquie2023.com/2024/01/20/x/", article, "text/html")
    )
    path.write_bytes(complete + last.getvalue()[: len(last.getvalue()) // 2])  # truncated tail
    db = tmp_path / "imported.db"
    result = archive_cli(
        "import-warc", "--db", str(db), "--seeds", "seeds/outlets.toml", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "archived 1," in out
    assert "1 outside the seeds' outlets, 1 not HTML" in out
    assert "skipped 1 revisit records" in out
    assert "warning:" in out and "CC-NEWS-test.warc.gz" in out
    conn = sqlite3.connect(db)
    row = conn.execute("select outlet, url, title from articles").fetchall()
    kind = conn.execute("select kind, status from runs").fetchall()
    conn.close()
    assert row == [
        (
            "turquie2023",
            in_scope,
            "Haut-Karabakh : Bakou et Érevan relancent les discussions sur la "
            "délimitation de leur frontière",
        )
    ]
    assert kind == [("import", "finished")]
    assert gzip.decompress(complete)[:9] == b"WARC/1.0\r"  # the test file is a real WARC


def test_article_page_links_to_a_sandboxed_archived_copy(datasette_url, demo_crawl):
    import httpx

    page = httpx.get(f"{datasette_url}/demo/articles/5").text
    assert "/-/archived/demo/5/1" in page
    copy = httpx.get(f"{datasette_url}/-/archived/demo/5/1")
    assert copy.status_code == 200
    policy = copy.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src 'none'" in policy
    assert copy.headers["x-content-type-options"] == "nosniff"
    assert b"entry-content" in copy.content  # the page as the outlet sent it
    record = httpx.get(f"{datasette_url}/-/archived/demo/5/1", params={"download": 1})
    assert record.headers["content-type"] == "application/warc"
    assert "attachment" in record.headers["content-disposition"]
    raw = gzip.decompress(record.content)
    assert raw.startswith(b"WARC/1.1\r\n") and b"WARC-Type: response\r\n" in raw
    assert httpx.get(f"{datasette_url}/-/archived/demo/5/99").status_code == 404
    assert httpx.get(f"{datasette_url}/-/archived/nope/5/1").status_code == 404
