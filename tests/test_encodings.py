"""Charsets declared in the HTTP header only, in <meta> only, wrongly, or not at all.

Each case is a page served over HTTP by a small local outlet and fetched by a real crawl;
the archive must hold the text a reader sees, with no mojibake ("Ã©") and no "�".
"""

from __future__ import annotations

import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from conftest import run_crawl, write_seeds

from archive.encoding import decode_html, legacy_encoding, repair_mojibake
from archive.extract import extract

FRENCH = (
    "Le ministre a reçu à Ankara son homologue, qui s’est déclaré « prêt à négocier » "
    "l’accord sur les œuvres d’art déplacées : une première depuis l’été dernier, "
    "a précisé le ministère des Affaires étrangères dans un communiqué publié mercredi."
)
LATIN1 = (  # only characters Latin-1 has (no ’ « œ): a page that really is ISO-8859-1
    "Le ministre a reçu à Ankara son homologue, qui s'est déclaré prêt à négocier "
    "l'accord sur les objets d'art déplacés : une première depuis l'été dernier, "
    "a précisé le ministère des Affaires étrangères dans un communiqué publié mercredi."
)
TURKISH = (
    "Dışişleri Bakanı, Ankara'da mevkidaşıyla görüştü ve iki ülke arasındaki ticaretin "
    "önümüzdeki yıl içinde artırılması için yeni bir çalışma grubu kurulacağını açıkladı; "
    "görüşmede enerji, ulaştırma ve güvenlik konuları da ele alındı."
)


def page(title: str, paragraph: str, head: str = "", lang: str = "fr") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head>{head}<title>{title}</title>'
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-05-14T10:00:00+03:00">'
        f"</head><body><article><h1>{title}</h1><p>{paragraph}</p><p>{paragraph}</p>"
        "</article></body></html>"
    )


# slug → (Content-Type header, body bytes, expected title, expected paragraph)
CASES: dict[str, tuple[str, bytes, str, str]] = {
    "charset-dans-l-en-tete-http-seulement": (
        "text/html; charset=windows-1252",
        page("Négociations à Érevan : l’été des œuvres", FRENCH).encode("cp1252"),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
    "charset-dans-la-balise-meta-seulement": (
        "text/html",
        page("Négociations à Érevan, été", LATIN1, '<meta charset="iso-8859-1">').encode("latin-1"),
        "Négociations à Érevan, été",
        LATIN1,
    ),
    "en-tete-iso-8859-1-mais-page-en-utf-8": (
        "text/html; charset=ISO-8859-1",
        page("Négociations à Érevan : l’été des œuvres", FRENCH).encode("utf-8"),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
    "meta-windows-1252-mais-page-en-utf-8": (
        "text/html",
        page(
            "Négociations à Érevan : l’été des œuvres",
            FRENCH,
            '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        ).encode("utf-8"),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
    "en-tete-utf-8-mais-page-en-windows-1252": (
        "text/html; charset=utf-8",
        page("Négociations à Érevan : l’été des œuvres", FRENCH).encode("cp1252"),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
    "aucune-declaration-page-en-windows-1252": (
        "text/html",
        page("Négociations à Érevan : l’été des œuvres", FRENCH).encode("cp1252"),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
    "aucune-declaration-page-turque-en-windows-1254": (
        "text/html",
        page("Dışişleri Bakanı Ankara'da görüştü", TURKISH, lang="tr").encode("cp1254"),
        "Dışişleri Bakanı Ankara'da görüştü",
        TURKISH,
    ),
    "utf-8-avec-bom-sans-declaration": (
        "text/html",
        b"\xef\xbb\xbf" + page("Négociations à Érevan : l’été des œuvres", FRENCH).encode(),
        "Négociations à Érevan : l’été des œuvres",
        FRENCH,
    ),
}


def path_of(slug: str) -> str:
    return f"/2024/05/14/{slug}/"


class EncodingsOutlet(BaseHTTPRequestHandler):
    """An outlet whose every article is served in a different charset situation."""

    served: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.served.append(self.path)
        if self.path == "/":
            links = "".join(f'<a href="{path_of(slug)}">{slug}</a> ' for slug in CASES)
            self._send(
                200, "text/html; charset=utf-8", f"<html><body>{links}</body></html>".encode()
            )
            return
        for slug, (content_type, body, _title, _text) in CASES.items():
            if self.path == path_of(slug):
                self._send(200, content_type, body)
                return
        self._send(404, "text/html", b"<html><body>introuvable</body></html>")


@pytest.fixture(scope="module")
def encodings_archive(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EncodingsOutlet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("encodings")
    try:
        home = f"http://127.0.0.1:{server.server_address[1]}/"
        seeds = write_seeds(
            folder / "outlets.toml",
            [{"slug": "charsets", "name": "Charsets", "homepage": home, "language": "fr"}],
        )
        db = folder / "archive.db"
        result = run_crawl(seeds, db)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("select url, title, text, encoding from articles").fetchall()
    finally:
        conn.close()
    return {
        url.rstrip("/").rsplit("/", 1)[-1]: (title, text, enc) for url, title, text, enc in rows
    }


@pytest.mark.parametrize("slug", list(CASES))
def test_crawled_page_is_decoded_as_a_reader_sees_it(encodings_archive, slug):
    _content_type, _body, title, paragraph = CASES[slug]
    assert slug in encodings_archive, f"{slug} was not archived: {sorted(encodings_archive)}"
    got_title, text, _encoding = encodings_archive[slug]
    assert got_title == title
    assert paragraph in text
    assert "Ã" not in text and "\ufffd" not in text and "â€" not in text


def test_the_encoding_used_is_recorded(encodings_archive):
    encodings = {slug: enc for slug, (_t, _x, enc) in encodings_archive.items()}
    assert encodings["charset-dans-l-en-tete-http-seulement"] == "cp1252"
    assert encodings["en-tete-iso-8859-1-mais-page-en-utf-8"] == "utf-8"
    assert encodings["aucune-declaration-page-turque-en-windows-1254"] == "cp1254"


# -- the decoder on its own ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "language", "expected"),
    [
        (FRENCH.encode("cp1252"), "text/html; charset=windows-1252", None, "cp1252"),
        (b'<meta charset="iso-8859-1">' + LATIN1.encode("latin-1"), "", None, "cp1252"),
        (FRENCH.encode(), "text/html; charset=iso-8859-1", None, "utf-8"),
        (FRENCH.encode("cp1252"), "text/html; charset=utf-8", None, "cp1252"),
        (TURKISH.encode("cp1254"), "", "tr", "cp1254"),
        (b"\xef\xbb\xbf" + FRENCH.encode(), "text/html; charset=windows-1252", None, "utf-8"),
        ("Добро пожаловать в Москву".encode("cp1251"), "", "ru", "cp1251"),
        (b"plain ascii", "", None, "ascii"),
    ],
)
def test_decode_html_picks_the_encoding(body, content_type, language, expected):
    text, encoding = decode_html(body, content_type, language)
    assert encoding == expected
    assert "\ufffd" not in text and "Ã" not in text


def test_gbk_page_declared_gb2312_is_read_as_gb18030():
    body = '<meta charset="gb2312"><p>促进航天技术更好惠及人民</p>'.encode("gb18030")
    text, encoding = decode_html(body, "text/html")
    assert "促进航天技术更好惠及人民" in text and encoding == "gb18030"


def test_the_page_language_picks_the_legacy_encoding_before_the_outlet_one():
    assert legacy_encoding(b'<html lang="tr"><p>\xfd</p>', "fr") == "cp1254"
    assert legacy_encoding(b"<html><p>\xe9</p>", "fr") == "cp1252"
    assert legacy_encoding(b"<html><p>\xe9</p>", None) == "cp1252"


def test_double_encoded_utf8_is_repaired_but_accented_text_is_not_touched():
    broken = FRENCH.encode("utf-8").decode("cp1252")
    assert "Ã" in broken
    assert repair_mojibake(broken) == FRENCH
    assert repair_mojibake(FRENCH) == FRENCH
    # One quoted "Ã©" is not a broken page.
    quoted = "Le mot « Ã© » est un exemple de mojibake."
    assert repair_mojibake(quoted) == quoted


def test_extract_reports_the_encoding_and_the_text():
    html = page("Négociations à Érevan : l’été des œuvres", FRENCH).encode("cp1252")
    result = extract(html, "https://example.org/2024/05/14/a/", "text/html")
    assert result.encoding == "cp1252"
    assert result.title == "Négociations à Érevan : l’été des œuvres"
    assert FRENCH in result.text
