"""Loading and validation of the outlets file (seeds/outlets.toml)."""

from __future__ import annotations

import datetime
import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.monitor import parse_duration
from archive.rules import ExtractionRules, RuleError, check_selector
from archive.urls import canonical_url, host_of, normalize_host, same_site

__all__ = ["Outlet", "SeedsError", "load_seeds", "outlet_for_url", "select_outlets"]

REQUIRED_KEYS = ("slug", "name", "homepage")
KNOWN_KEYS = (
    *REQUIRED_KEYS,
    "language",
    "country",
    "feeds",
    "sitemaps",
    "domains",
    "article_pattern",
    "exclude",
    "drop",
    "body",
    "recheck",
)

_SLUG_RE = re.compile(r"[a-z0-9-]+")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")


class SeedsError(ValueError):
    """Invalid or unreadable outlets file; str(error) is the full message for the user."""


@dataclass(frozen=True)
class Outlet:
    """One watched outlet, as declared in the outlets file."""

    slug: str
    name: str
    homepage: str
    language: str | None
    country: str | None
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    domains: tuple[str, ...]
    article_pattern: re.Pattern[str] | None
    exclude: tuple[re.Pattern[str], ...]
    drop: tuple[str, ...] = ()  # CSS selectors of page parts that are never article text
    body: str | None = None  # CSS selector of the element(s) holding the article text
    # When to fetch an archived article again, counted from when it was first archived;
    # empty = the default schedule (archive.monitor.DEFAULT_SCHEDULE).
    recheck: tuple[timedelta, ...] = ()

    @property
    def rules(self) -> ExtractionRules:
        """The outlet's extraction rules, applied before trafilatura (archive.rules)."""
        return ExtractionRules(drop=self.drop, body=self.body)

    @property
    def all_domains(self) -> tuple[str, ...]:
        """Homepage host and extra domains, lowercase, without "www.", deduplicated."""
        hosts = [host_of(self.homepage), *(d.lower().removeprefix("www.") for d in self.domains)]
        return tuple(dict.fromkeys(h for h in hosts if h))

    def owns(self, url: str) -> bool:
        """True if `url` is on one of the outlet's domains or their subdomains."""
        return same_site(url, self.all_domains)

    def excluded(self, url: str) -> bool:
        """True if one of the outlet's `exclude` patterns matches `url`."""
        return any(pattern.search(url) for pattern in self.exclude)


def read_toml(path: str | Path, kind: str, error: type[Exception]) -> tuple[str, dict]:
    """A TOML file's text and data; `error` (one line naming the file) if it cannot be."""
    where = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise error(f"{kind} file not found: {where}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"cannot read {kind} file {where}: {exc.strerror or exc}") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(_toml_error(where, text, exc)) from None


def load_seeds(path: str | Path) -> list[Outlet]:
    """Read and validate an outlets file; raise SeedsError listing every problem found."""
    where = str(path)
    text, data = read_toml(path, "seeds", SeedsError)

    lines = _KeyLines(text)
    # (line, message) pairs, reported in file order.
    errors: list[tuple[int, str]] = []

    def report(line: int | None, message: str) -> None:
        errors.append((line or 0, f"{_at(where, line)}{message}"))

    for key in data:
        if key != "outlet":
            hint = _did_you_mean(key, ["outlet"])
            report(
                lines.top.get(key),
                f"unknown top-level key {_q(key)} (only [[outlet]] tables are allowed{hint})",
            )

    raw_outlets = data.get("outlet", [])
    if not isinstance(raw_outlets, list) or not all(isinstance(o, dict) for o in raw_outlets):
        report(
            lines.top.get("outlet"),
            '"outlet" must be a list of tables: start each outlet with [[outlet]]',
        )
        raw_outlets = []
    elif not raw_outlets and not errors:
        report(None, "no outlets defined (add an [[outlet]] table)")

    outlets: list[Outlet] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_outlets):
        header, key_lines = lines.outlet(index)
        # Outlets written as inline tables have no header: point at the "outlet" key instead.
        header = header or lines.top.get("outlet")
        checker = _OutletChecker(index + 1, raw, header, key_lines, report)
        outlet = checker.build()
        if outlet is None:
            continue
        if outlet.slug in first_seen:
            other = first_seen[outlet.slug]
            other_header, _ = lines.outlet(other - 1)
            report(
                checker.line("slug"),
                f"outlet #{index + 1}: duplicate slug {_q(outlet.slug)} (already used by"
                f" outlet #{other}" + (f", line {other_header})" if other_header else ")"),
            )
            continue
        first_seen[outlet.slug] = index + 1
        outlets.append(outlet)

    if errors:
        errors.sort(key=lambda error: error[0])
        raise SeedsError("\n".join(message for _, message in errors))
    return outlets


def select_outlets(outlets: list[Outlet], slug: str | None) -> list[Outlet]:
    """The outlet named `slug`, or all outlets when `slug` is None or empty."""
    if not slug:
        return list(outlets)
    chosen = [outlet for outlet in outlets if outlet.slug == slug]
    if chosen:
        return chosen
    known = sorted(outlet.slug for outlet in outlets)
    hint = _did_you_mean(slug, known)
    raise SeedsError(
        f"unknown outlet {_q(slug)}; known outlets: {', '.join(known) or '(none)'}"
        + (f" ({hint.removeprefix('; ')})" if hint else "")
    )


def outlet_for_url(outlets: list[Outlet], url: str) -> Outlet | None:
    """The outlet a URL belongs to, or None.

    Outlets that claim the URL (no exclude match, article_pattern absent or matching) win over
    those that merely own its domain, then the most specific domain wins, then file order.
    """
    host = host_of(url)
    if not host:
        return None
    best: Outlet | None = None
    best_rank = (False, -1)
    for outlet in outlets:
        matching = [d for d in outlet.all_domains if host == d or host.endswith("." + d)]
        if not matching:
            continue
        claims = not outlet.excluded(url) and (
            outlet.article_pattern is None or bool(outlet.article_pattern.search(url))
        )
        rank = (claims, max(len(d) for d in matching))
        if rank > best_rank:
            best, best_rank = outlet, rank
    return best


class _OutletChecker:
    """Validates one [[outlet]] table, passing each problem to `report`."""

    def __init__(
        self,
        number: int,
        raw: dict[str, Any],
        header: int | None,
        key_lines: dict[str, int],
        report: Callable[[int | None, str], None],
    ) -> None:
        self.raw = raw
        self.header = header
        self.key_lines = key_lines
        self.report = report
        self.failed = False
        slug = raw.get("slug")
        valid_slug = isinstance(slug, str) and _SLUG_RE.fullmatch(slug)
        self.label = f"outlet {_q(slug)}" if valid_slug else f"outlet #{number}"

    def line(self, key: str) -> int | None:
        return self.key_lines.get(key, self.header)

    def error(self, key: str | None, message: str) -> None:
        line = self.line(key) if key else self.header
        self.report(line, f"{self.label}: {message}")
        self.failed = True

    def bad(self, key: str, message: str) -> None:
        self.error(key, f"bad value for {_q(key)}: {message}")

    def build(self) -> Outlet | None:
        for key in self.raw:
            if key not in KNOWN_KEYS:
                self.error(
                    key,
                    f"unknown key {_q(key)}{_did_you_mean(key, KNOWN_KEYS)}"
                    f" (known keys: {', '.join(KNOWN_KEYS)})",
                )
        for key in REQUIRED_KEYS:
            if key not in self.raw:
                self.error(None, f"missing required key {_q(key)}")

        slug = self.string("slug")
        if slug is not None and not _SLUG_RE.fullmatch(slug):
            self.bad(
                "slug",
                f"{_q(slug)} may only contain lowercase letters, digits and hyphens ([a-z0-9-]+)",
            )
        name = self.string("name")
        if name is not None and not name.strip():
            self.bad("name", "must not be empty")
        homepage = self.url("homepage", self.string("homepage"))
        language = self.code("language", _LANGUAGE_RE, "lowercase ISO 639-1 code", "fr")
        country = self.code("country", _COUNTRY_RE, "uppercase ISO 3166-1 alpha-2 code", "TR")
        feeds = tuple(self.url("feeds", u) for u in self.strings("feeds"))
        sitemaps = tuple(self.url("sitemaps", u) for u in self.strings("sitemaps"))
        domains = tuple(self.domain(d) for d in self.strings("domains"))
        pattern = self.string("article_pattern")
        article_pattern = self.regex("article_pattern", pattern) if pattern else None
        exclude = tuple(self.regex("exclude", r) for r in self.strings("exclude"))
        drop = tuple(self.selector("drop", css) for css in self.strings("drop"))
        body = self.string("body")
        body = self.selector("body", body) if body else None  # "" means none, as for patterns
        recheck = tuple(self.duration("recheck", d) for d in self.strings("recheck"))

        if self.failed:
            return None
        return Outlet(
            slug=slug or "",
            name=(name or "").strip(),
            homepage=homepage or "",
            language=language,
            country=country,
            feeds=tuple(u for u in feeds if u),
            sitemaps=tuple(u for u in sitemaps if u),
            domains=tuple(dict.fromkeys(d for d in domains if d)),
            article_pattern=article_pattern,
            exclude=tuple(p for p in exclude if p),
            drop=tuple(css for css in drop if css),
            body=body,
            recheck=tuple(sorted(d for d in recheck if d)),
        )

    def duration(self, key: str, value: str) -> timedelta | None:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.bad(key, str(exc))
            return None

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or isinstance(value, str):
            return value
        self.bad(key, f"expected a string, got {_describe(value)}")
        return None

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key, [])
        if isinstance(value, str):
            self.bad(key, f'expected a list of strings, got a string (write {key} = ["..."])')
            return []
        if not isinstance(value, list):
            self.bad(key, f"expected a list of strings, got {_describe(value)}")
            return []
        for position, item in enumerate(value, 1):
            if not isinstance(item, str):
                self.bad(key, f"expected a list of strings, item {position} is {_describe(item)}")
                return []
        return value

    def url(self, key: str, value: str | None) -> str | None:
        if value is None:
            return None
        # Whitespace is rejected rather than stripped: it usually means a paste went wrong.
        if value != value.strip() or canonical_url(value) is None:
            self.bad(key, f"{_q(value)} is not an http(s) URL")
            return None
        if "@" in urlsplit(value).netloc:
            # A password in a URL ends up in every log line and WARC record that names it.
            self.bad(
                key,
                "credentials in URLs are not supported (they would be logged); "
                "remove the user:password@ part",
            )
            return None
        return value

    def code(self, key: str, pattern: re.Pattern[str], what: str, example: str) -> str | None:
        value = self.string(key)
        if value is None or pattern.fullmatch(value):
            return value
        self.bad(key, f"{_q(value)} is not a two-letter {what} (e.g. {_q(example)})")
        return None

    def domain(self, value: str) -> str | None:
        host = normalize_host(value) if value == value.strip() else None
        if host is not None:
            return host
        suggestion = host_of(value) or host_of("//" + value.strip())
        hint = f' (write "{suggestion}")' if suggestion else ""
        self.bad("domains", f"{_q(value)} is not a bare host name{hint}")
        return None

    def selector(self, key: str, value: str) -> str | None:
        try:
            return check_selector(value)
        except RuleError as exc:
            self.bad(key, str(exc))
            return None

    def regex(self, key: str, value: str) -> re.Pattern[str] | None:
        try:
            return re.compile(value)
        except re.error as exc:
            self.bad(key, f"invalid regular expression {_q(value)}: {exc}")
            return None


class _KeyLines:
    """Line numbers of keys and [[outlet]] headers, found by scanning the raw TOML text.

    tomllib reports no positions, so this is a light line-based scan: good enough for
    error messages, not a TOML parser.
    """

    _ARRAY_HEADER = re.compile(r"\s*\[\[\s*(?P<name>[^\[\]]+?)\s*\]\]\s*(?:#.*)?")
    _TABLE_HEADER = re.compile(r"\s*\[\s*(?P<name>[^\[\]]+?)\s*\]\s*(?:#.*)?")
    _KEY = re.compile(r"""\s*(?P<key>[A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*[.=]""")

    def __init__(self, text: str) -> None:
        self.top: dict[str, int] = {}
        self.outlets: list[tuple[int, dict[str, int]]] = []
        current: dict[str, int] = self.top
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if in_multiline:
                if line.count(in_multiline) % 2:
                    in_multiline = None
                continue
            header = self._ARRAY_HEADER.fullmatch(line) or self._TABLE_HEADER.fullmatch(line)
            if header:
                current = self._enter(header.group("name"), number, line.lstrip()[1] == "[")
                continue
            key = self._KEY.match(line)
            if key:
                current.setdefault(key.group("key").strip("\"'"), number)
            for quotes in ('"""', "'''"):
                if line.count(quotes) % 2:
                    in_multiline = quotes
                    break

    def _enter(self, name: str, number: int, is_array: bool) -> dict[str, int]:
        parts = [part.strip().strip("\"'") for part in name.split(".")]
        if parts == ["outlet"] and is_array:
            self.outlets.append((number, {}))
            return self.outlets[-1][1]
        if parts[0] == "outlet" and len(parts) > 1 and self.outlets:
            # [outlet.x] adds key "x" to the current outlet.
            self.outlets[-1][1].setdefault(parts[1], number)
        else:
            self.top.setdefault(parts[0], number)
        return {}

    def outlet(self, index: int) -> tuple[int | None, dict[str, int]]:
        if index < len(self.outlets):
            return self.outlets[index]
        return None, {}


_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
    (datetime.datetime, "a date-time"),
    (datetime.date, "a date"),
    (datetime.time, "a time"),
)


def _describe(value: object) -> str:
    for kind, name in _TOML_TYPES:
        if isinstance(value, kind):
            return f"{name} ({value!r})" if kind in (bool, int, float) else name
    return type(value).__name__


def _q(value: object) -> str:
    # Unescaped on purpose: regexes are usually written as TOML literal strings ('...'), so
    # showing them as written is clearer than TOML basic-string escaping.
    return f'"{value}"'


def _at(where: str, line: int | None) -> str:
    return f"{where}:{line}: " if line else f"{where}: "


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {_q(close[0])}?" if close else ""


_TOML_POSITION = re.compile(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def _toml_error(where: str, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    position = _TOML_POSITION.search(message)
    if position:
        detail = message[: position.start()]
        return f"{where}:{position['line']}: invalid TOML: {detail} (column {position['column']})"
    if message.endswith("(at end of document)"):
        line = max(len(text.splitlines()), 1)
        return f"{where}:{line}: invalid TOML: {message.removesuffix(' (at end of document)')}"
    return f"{where}: invalid TOML: {message}"
