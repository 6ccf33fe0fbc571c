"""Raw captures in WARC 1.1: every response kept, with the request that fetched it.

Capture happens at the archive's single entry point, so a live crawl and a
distributed writer produce the same files. Each fetched page becomes a
`request` and a `response` record (one gzip member each, as web archives
expect); files rotate by size and are named after the run. veille's own facts
about a page (outlet, why it was fetched, feed hints) travel as `WARC-Veille-*`
extension headers, which is what lets `reextract` rebuild the archive from the
WARC files alone.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import __version__
from archive.page import RawPage
from archive.store import outlet_row

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 100 * 1024 * 1024  # rotate at ~100 MB, a common size for WARC tooling
# Headers that described the bytes on the wire, not the (decompressed) body we
# store; kept under another name so replay tools do not decode twice.
RENAMED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
VEILLE_FIELDS = {
    "outlet": "WARC-Veille-Outlet",
    "role": "WARC-Veille-Role",
    "found_via": "WARC-Veille-Found-Via",
    "hint_title": "WARC-Veille-Hint-Title",
    "hint_published": "WARC-Veille-Hint-Published",
    "url": "WARC-Veille-Requested-URI",
}


@dataclass(frozen=True)
class WarcRef:
    """Where a page's raw response lies: file (relative to the WARC root), offset, length."""

    file: str
    offset: int
    length: int


def warc_date(iso: str) -> str:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _header_value(value: str) -> str:
    # WARC headers are one line of UTF-8; feed titles may hold newlines.
    return " ".join(str(value).split())


class WarcWriter:
    """Appends request/response pairs to size-rotated .warc.gz files of one run."""

    def __init__(
        self,
        root: str | Path,
        run_id: int | None,
        max_bytes: int = MAX_FILE_BYTES,
        outlets: list | None = None,
    ):
        self.root = Path(root)
        self.outlets = outlets or []
        self.run_id = run_id
        self.max_bytes = max_bytes
        self.stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.serial = 0
        self._file = None
        self._writer: WARCWriter | None = None
        self.path: Path | None = None

    def _open_next(self) -> None:
        self.close()
        self.serial += 1
        self.root.mkdir(parents=True, exist_ok=True)
        run = f"{self.run_id:05d}" if self.run_id is not None else "norun"
        self.path = self.root / f"veille-{run}-{self.stamp}-{self.serial:04d}.warc.gz"
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open across many writes
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        info = {
            "software": f"veille/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "isPartOf": f"veille run {run}",
            "robots": "obey",
            "description": "Raw responses fetched by veille, an outlet-monitoring archive",
            # The outlets as configured for this run, so the files alone can rebuild an archive.
            "veille-outlets": json.dumps([outlet_row(o) for o in self.outlets], ensure_ascii=False),
        }
        record = self._writer.create_warcinfo_record(self.path.name, info)
        self._writer.write_record(record)

    def write(self, page: RawPage) -> WarcRef | None:
        """Write one fetched page; None when nothing was received (a failed fetch)."""
        if page.status is None:
            return None
        if self._writer is None or self._file.tell() >= self.max_bytes:
            self._open_next()
        uri = page.final_url or page.url
        date = warc_date(page.fetched_at)
        veille = {
            header: _header_value(getattr(page, field))
            for field, header in VEILLE_FIELDS.items()
            if getattr(page, field)
        }
        response = self._writer.create_warc_record(
            uri,
            "response",
            payload=BytesIO(page.body),
            length=len(page.body),
            http_headers=self._status_and_headers(page),
            warc_headers_dict={"WARC-Date": date, **veille},
        )
        request_headers = StatusAndHeaders(
            f"GET {_request_target(uri)} HTTP/1.1",
            list((page.request_headers or {"Host": _host(uri)}).items()),
            is_http_request=True,
        )
        request = self._writer.create_warc_record(
            uri,
            "request",
            http_headers=request_headers,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        offset = self._file.tell()
        self._writer.write_record(response)
        length = self._file.tell() - offset
        self._writer.write_record(request)
        return WarcRef(self.path.relative_to(self.root).as_posix(), offset, length)

    @staticmethod
    def _status_and_headers(page: RawPage) -> StatusAndHeaders:
        try:
            reason = HTTPStatus(page.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = []
        for name, value in page.headers.items():
            if name.lower() in RENAMED_HEADERS:
                headers.append((f"X-Veille-Orig-{name}", value))
            else:
                headers.append((name, value))
        headers.append(("Content-Length", str(len(page.body))))
        return StatusAndHeaders(f"{page.status} {reason}", headers, protocol="HTTP/1.1")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def _request_target(uri: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _host(uri: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(uri).netloc


# -- reading --------------------------------------------------------------------


def warc_files(location: str | Path) -> list[Path]:
    """WARC files at a path: a file, a directory (searched recursively) or a glob."""
    location = str(location)
    if os.path.isdir(location):
        found = [p for p in Path(location).rglob("*") if _is_warc_name(p.name)]
    elif any(ch in location for ch in "*?["):
        found = [Path(p) for p in glob.glob(location, recursive=True) if os.path.isfile(p)]
    elif os.path.isfile(location):
        found = [Path(location)]
    else:
        found = []
    return sorted(found)


def _is_warc_name(name: str) -> bool:
    return name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz"))


@dataclass
class WarcResponse:
    """A response record, read back as the page veille received."""

    page: RawPage
    ref: WarcRef
    veille: bool  # written by veille (carries WARC-Veille-* headers)


@dataclass
class ReadStats:
    records: int = 0
    responses: int = 0
    skipped_revisits: int = 0
    skipped_other: int = 0
    errors: list[str] | None = None


def iter_responses(
    path: Path, root: Path | None = None, stats: ReadStats | None = None
) -> Iterator[WarcResponse]:
    """Response records of one WARC file; a truncated or corrupt tail ends the file."""
    stats = stats or ReadStats()
    name = path.relative_to(root).as_posix() if root else str(path)
    with open(path, "rb") as fh:
        # A record cut short (a truncated download) is reported and skipped
        # instead of archived with half its text.
        iterator = ArchiveIterator(fh, check_digests=True)
        try:
            for record in iterator:
                stats.records += 1
                if record.rec_type == "revisit":
                    stats.skipped_revisits += 1
                    continue
                if record.rec_type != "response" or record.http_headers is None:
                    stats.skipped_other += 1
                    continue
                body = record.content_stream().read()
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()
                if getattr(record.raw_stream, "limit", 0) or record.digest_checker.passed is False:
                    _problem(
                        stats,
                        f"{path}: record {stats.records} at offset {offset} is "
                        "cut short or damaged; skipped",
                    )
                    continue
                stats.responses += 1
                yield _as_response(record, body, WarcRef(name, offset, length))
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            _problem(stats, f"{path}: stopped at record {stats.records + 1}: {exc}")
            return
        size = os.fstat(fh.fileno()).st_size
        if iterator.offset < size:
            _problem(
                stats,
                f"{path}: {size - iterator.offset} bytes at the end could not be "
                "read (a truncated last record?)",
            )


def _problem(stats: ReadStats, message: str) -> None:
    logger.warning(message)
    stats.errors = [*(stats.errors or []), message]


def _as_response(record, body: bytes, ref: WarcRef) -> WarcResponse:
    rec = record.rec_headers
    http = record.http_headers
    uri = rec.get_header("WARC-Target-URI")
    headers: dict[str, str] = {}
    for name, value in http.headers:
        if name.lower().startswith("x-veille-orig-"):
            continue
        if name.lower() in RENAMED_HEADERS:
            continue  # the stored body is the decoded one in veille's captures
        headers[name] = value
    status_code = http.get_statuscode()
    fetched = rec.get_header("WARC-Date") or ""
    veille = rec.get_header("WARC-Veille-Outlet") is not None
    page = RawPage(
        url=rec.get_header("WARC-Veille-Requested-URI") or uri,
        final_url=uri,
        outlet=rec.get_header("WARC-Veille-Outlet") or "",
        role=rec.get_header("WARC-Veille-Role") or "article",
        status=int(status_code) if status_code and status_code.isdigit() else None,
        headers=headers,
        body=body,
        fetched_at=_iso_from_warc_date(fetched),
        found_via=rec.get_header("WARC-Veille-Found-Via") or "warc",
        hint_title=rec.get_header("WARC-Veille-Hint-Title"),
        hint_published=rec.get_header("WARC-Veille-Hint-Published"),
    )
    return WarcResponse(page=page, ref=ref, veille=veille)


def _iso_from_warc_date(value: str) -> str:
    if not value:
        return datetime.now(UTC).isoformat(timespec="seconds")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.isoformat(timespec="seconds")


def read_response(root: str | Path, ref: WarcRef) -> WarcResponse:
    """The response record at a file and offset (for the archived-copy link)."""
    path = Path(root) / ref.file
    with open(path, "rb") as fh:
        fh.seek(ref.offset)
        record = next(iter(ArchiveIterator(fh)))
        body = record.content_stream().read()
        return _as_response(record, body, ref)


def read_record_bytes(root: str | Path, ref: WarcRef) -> bytes:
    """The raw bytes of one record (its gzip member), for a download."""
    with open(Path(root) / ref.file, "rb") as fh:
        fh.seek(ref.offset)
        return fh.read(ref.length) if ref.length else fh.read()
