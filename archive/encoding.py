"""Bytes → text for HTML pages whose charset is declared wrongly, only in one place, or not at all.

The order is a browser's (BOM, HTTP header, `<meta>`), with two corrections browsers do
not need because a person would notice the garbage and we cannot:

* Bytes that are valid UTF-8 and not plain ASCII are UTF-8, whatever the header or
  `<meta>` says. Text in a legacy encoding (Latin-1, Windows-125x, GBK, Shift_JIS…) is
  almost never valid UTF-8 by accident, while servers that announce ISO-8859-1 for UTF-8
  pages are common.
* Text that still carries UTF-8 read as Windows-1252 ("Ã©", "â€™") is repaired run by run
  when the page shows it repeatedly (double-encoding by a CMS).

A page with no declaration that is not UTF-8 is read in the legacy encoding of its
language (the page's `lang`, else the outlet's expected language), as the WHATWG
encoding standard's locale defaults do, else Windows-1252.
"""

from __future__ import annotations

import re

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# WHATWG locale → legacy default encoding (https://html.spec.whatwg.org, "encoding sniffing").
LEGACY_BY_LANGUAGE = {
    "ar": "cp1256",
    "fa": "cp1256",
    "ur": "cp1256",
    "be": "cp1251",
    "bg": "cp1251",
    "kk": "cp1251",
    "mk": "cp1251",
    "ru": "cp1251",
    "sr": "cp1251",
    "uk": "cp1251",
    "cs": "cp1250",
    "hr": "cp1250",
    "hu": "cp1250",
    "pl": "cp1250",
    "ro": "cp1250",
    "sk": "cp1250",
    "sl": "cp1250",
    "el": "cp1253",
    "et": "cp1257",
    "lt": "cp1257",
    "lv": "cp1257",
    "he": "cp1255",
    "ja": "cp932",
    "ko": "cp949",
    "th": "cp874",
    "tr": "cp1254",
    "az": "cp1254",
    "ku": "cp1254",
    "vi": "cp1258",
    "zh": "gb18030",
}
FALLBACK = "cp1252"

_LANG_ATTR = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # the five bytes cp1252 leaves undefined read as Latin-1 controls


_BYTE_OF = {_cp1252_char(b): b for b in range(256)}


def _chars(first: int, last: int) -> str:
    return "".join(re.escape(_cp1252_char(b)) for b in range(first, last + 1))


_CONT = f"[{_chars(0x80, 0xBF)}]"
# A UTF-8 sequence read as Windows-1252: the fingerprint of mojibake ("Ã©", "Ä±", "â€™").
_MOJIBAKE = re.compile(
    f"[{_chars(0xC2, 0xDF)}]{_CONT}|[{_chars(0xE0, 0xEF)}]{_CONT}{{2}}"
    f"|[{_chars(0xF0, 0xF4)}]{_CONT}{{3}}"
)
# First characters of the commonest of those sequences (Latin-1 letters, Turkish and
# Central European letters, Cyrillic, Arabic, typographic punctuation): rare in real text,
# and counted far faster than the full pattern is searched.
_MARKERS = ("Ã", "Â", "â€", "Ä", "Å", "Ð", "Ñ", "Ø", "Ù")


def decode_html(
    body: bytes, content_type: str = "", language: str | None = None
) -> tuple[str, str]:
    """Decode a page; return (text, encoding used)."""
    bom = read_bom(body)
    if bom[0]:
        encoding = resolve_encoding(bom[0]) or bom[0]
        return body[len(bom[1]) :].decode(encoding, errors="replace"), encoding

    declared = [
        enc
        for enc in (
            http_content_type_encoding(content_type) if content_type else None,
            html_body_declared_encoding(body),
        )
        if enc
    ]
    if not body.isascii() and not any(e.startswith(("utf-16", "utf-32")) for e in declared):
        try:
            return repair_mojibake(body.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            pass
    for encoding in declared:
        if encoding == "utf-8":
            continue  # not valid UTF-8 (tried above): the declaration is wrong
        try:
            return repair_mojibake(body.decode(encoding)), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    if body.isascii():
        return body.decode("ascii"), declared[0] if declared else "ascii"
    encoding = legacy_encoding(body, language)
    return body.decode(encoding, errors="replace"), encoding


def legacy_encoding(body: bytes, language: str | None = None) -> str:
    """The encoding to assume for undeclared, non-UTF-8 bytes."""
    match = _LANG_ATTR.search(body[:4096])
    page_language = match.group(1).decode("ascii").lower()[:2] if match else None
    for code in (page_language, (language or "").lower()[:2]):
        if code in LEGACY_BY_LANGUAGE:
            return LEGACY_BY_LANGUAGE[code]
    return FALLBACK


def repair_mojibake(text: str, minimum: int = 3) -> str:
    """Undo UTF-8-read-as-Windows-1252, sequence by sequence.

    Only when the page shows the fingerprint at least `minimum` times: a lone "Ã©" may be
    a quotation, a page full of them is broken. Each sequence is replaced only when its
    bytes decode as UTF-8.
    """
    if sum(text.count(marker) for marker in _MARKERS) < minimum:
        return text
    if len(_MOJIBAKE.findall(text)) < minimum:
        return text

    def fix(match: re.Match[str]) -> str:
        raw = bytes(_BYTE_OF[char] for char in match.group(0))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)

    return _MOJIBAKE.sub(fix, text)
