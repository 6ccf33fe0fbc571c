"""Saved searches ("alerts"): the alerts file, and what matches each one anew.

seeds/alerts.toml holds one `[[alert]]` table per saved search::

    [[alert]]
    name = "Haut-Karabakh"                    # required, unique
    query = 'Karabakh OR "Haut-Karabagh"'     # required: the archive's search syntax
    outlets = ["aa-fr", "trt-francais"]       # optional: only these outlets (default: all)

(`outlet = "slug"` is accepted for a single outlet.) The file is checked like the
outlets file: a mistake is reported with the file, line, alert and key.

`run_alerts` finds, for each alert, the matching articles archived since the
previous run. The state is the table `alert_state` of the archive: per alert, the
highest article id that existed when it last ran (article ids only grow, so a
higher id is an article archived later, whenever it was published). Changing an
alert's query or outlets starts it afresh. Datasette publishes each alert as an
Atom feed (`feed_path`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import sqlite_utils

from archive.search import MARK_END, MARK_START, Hit, fts_query
from archive.seeds import _did_you_mean, read_toml

__all__ = ["Alert", "AlertRun", "AlertsError", "feed_path", "load_alerts", "run_alerts"]

REQUIRED_KEYS = ("name", "query")
KNOWN_KEYS = (*REQUIRED_KEYS, "outlets", "outlet")
SLUG = re.compile(r"[a-z0-9-]+")
DEFAULT_LIMIT = 20


class AlertsError(ValueError):
    """Invalid or unreadable alerts file; str(error) is the full message for the user."""


@dataclass(frozen=True)
class Alert:
    name: str
    query: str
    outlets: tuple[str, ...] = ()  # empty: every outlet

    @property
    def scope(self) -> str:
        return ", ".join(self.outlets) if self.outlets else "all outlets"


# -- the alerts file ----------------------------------------------------------------


def load_alerts(path: str | Path) -> list[Alert]:
    """Read and validate an alerts file; AlertsError lists every problem found."""
    where = str(path)
    text, data = read_toml(path, "alerts", AlertsError)  # the outlets file's wording

    lines = _Lines(text)
    errors: list[tuple[int, str]] = []

    def report(line: int | None, message: str) -> None:
        errors.append((line or 0, f"{where}:{line}: {message}" if line else f"{where}: {message}"))

    for key in data:
        if key != "alert":
            report(
                lines.top.get(key),
                f'unknown top-level key "{key}" (only [[alert]] tables are allowed'
                f"{_did_you_mean(key, ['alert'])})",
            )
    raw_alerts = data.get("alert", [])
    if not isinstance(raw_alerts, list) or not all(isinstance(a, dict) for a in raw_alerts):
        report(
            lines.top.get("alert"), '"alert" must be a list of tables: start each with [[alert]]'
        )
        raw_alerts = []
    elif not raw_alerts and not errors:
        report(None, "no alerts defined (add an [[alert]] table)")

    alerts: list[Alert] = []
    names: dict[str, int] = {}
    for index, raw in enumerate(raw_alerts):
        header, key_lines = lines.tables[index] if index < len(lines.tables) else (None, {})
        alert = _check(index + 1, raw, header or lines.top.get("alert"), key_lines, report)
        if alert is None:
            continue
        if alert.name in names:
            report(
                key_lines.get("name", header),
                f'alert "{alert.name}": duplicate name '
                f"(already used by alert #{names[alert.name]})",
            )
            continue
        names[alert.name] = index + 1
        alerts.append(alert)
    if errors:
        errors.sort(key=lambda error: error[0])
        raise AlertsError("\n".join(message for _, message in errors))
    return alerts


def _check(number, raw, header, key_lines, report) -> Alert | None:
    name = raw.get("name")
    label = f'alert "{name}"' if isinstance(name, str) and name.strip() else f"alert #{number}"
    failed = False

    def error(key: str | None, message: str) -> None:
        nonlocal failed
        report(key_lines.get(key, header) if key else header, f"{label}: {message}")
        failed = True

    for key in raw:
        if key not in KNOWN_KEYS:
            error(
                key,
                f'unknown key "{key}"{_did_you_mean(key, KNOWN_KEYS)}'
                f" (known keys: {', '.join(KNOWN_KEYS)})",
            )
    for key in REQUIRED_KEYS:
        if key not in raw:
            error(None, f'missing required key "{key}"')
    for key in REQUIRED_KEYS:
        value = raw.get(key)
        if key in raw and (not isinstance(value, str) or not value.strip()):
            error(key, f'bad value for "{key}": expected a non-empty string')
    query = raw.get("query")
    if isinstance(query, str) and query.strip() and fts_query(query) == '""':
        error("query", f'bad value for "query": "{query}" has no word to search for')
    outlets: list[str] = []
    if "outlet" in raw and "outlets" in raw:
        error("outlet", 'give either "outlet" or "outlets", not both')
    elif "outlet" in raw:
        if isinstance(raw["outlet"], str):
            outlets = [raw["outlet"]]
        else:
            error("outlet", 'bad value for "outlet": expected a string (or use outlets = [...])')
    elif "outlets" in raw:
        value = raw["outlets"]
        if isinstance(value, str):
            error(
                "outlets", f'bad value for "outlets": expected a list (write outlets = ["{value}"])'
            )
        elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            error("outlets", 'bad value for "outlets": expected a list of outlet slugs')
        elif not value:
            error("outlets", 'bad value for "outlets": empty (remove it to watch every outlet)')
        else:
            outlets = value
    for slug in outlets:
        if not SLUG.fullmatch(slug):
            key = "outlet" if "outlet" in raw else "outlets"
            error(key, f'bad value for "{key}": "{slug}" is not an outlet slug ([a-z0-9-]+)')
    if failed:
        return None
    return Alert(name=name.strip(), query=query.strip(), outlets=tuple(dict.fromkeys(outlets)))


class _Lines:
    """Line numbers of top-level keys and of each [[alert]] table and its keys.

    tomllib reports no positions, so this is a light line-based scan, good enough for
    error messages (as archive.seeds does for the outlets file).
    """

    _HEADER = re.compile(r"\s*\[\[?\s*(?P<name>[^\[\]]+?)\s*\]\]?\s*(?:#.*)?")
    _KEY = re.compile(r"""\s*(?P<key>[A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*[.=]""")

    def __init__(self, text: str) -> None:
        self.top: dict[str, int] = {}
        self.tables: list[tuple[int, dict[str, int]]] = []
        current = self.top
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if in_multiline:
                if line.count(in_multiline) % 2:
                    in_multiline = None
                continue
            header = self._HEADER.fullmatch(line)
            if header:
                name = header.group("name").strip().strip("\"'")
                if name == "alert" and line.lstrip().startswith("[["):
                    self.tables.append((number, {}))
                    current = self.tables[-1][1]
                else:
                    self.top.setdefault(name.split(".")[0], number)
                    current = {}
                continue
            key = self._KEY.match(line)
            if key:
                current.setdefault(key.group("key").strip("\"'"), number)
            for quotes in ('"""', "'''"):
                if line.count(quotes) % 2:
                    in_multiline = quotes
                    break


# -- state and matches --------------------------------------------------------------


def ensure_schema(db: sqlite_utils.Database) -> None:
    """The alerts' state (called by archive.store.ensure_schema; additive only)."""
    db["alert_state"].create(
        {
            "alert": str,  # the alert's name
            "query": str,
            "outlets": str,  # JSON list, empty for every outlet
            "last_article_id": int,  # highest article id when the alert last ran
            "last_run": str,
            "last_new": int,  # new matches found by that run
        },
        pk="alert",
        if_not_exists=True,
    )


@dataclass
class AlertRun:
    """One alert's new matches (newest first, at most `limit`) and how many in all."""

    alert: Alert
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    since: str | None = None  # when the alert last ran; None on its first run
    restarted: bool = False  # its query or outlets changed since


MATCH_SQL = """
from articles_fts
join articles on articles.rowid = articles_fts.rowid
where articles_fts match :match
  and articles.id > :after and articles.id <= :upto
  and (:outlets = '' or instr(:outlets, ',' || articles.outlet || ',') > 0)"""

# The newest `limit` matches first, then snippets for those alone: snippet() re-reads and
# re-tokenizes an article's text, too slow to run on every match of a first run.
HITS_SQL = f"""with top as (
  select articles.id, coalesce(articles.published, articles.first_seen) as at{MATCH_SQL}
  order by at desc, articles.id desc limit :limit
)
select articles.id, articles.outlet, articles.published, articles.title, articles.url,
  snippet(articles_fts, 1, :start, :end, '…', 24)
from top
cross join articles_fts on articles_fts.rowid = top.id
join articles on articles.id = top.id
where articles_fts match :match
order by top.at desc, top.id desc"""


def run_alerts(
    db_path: str | Path,
    alerts: list[Alert],
    limit: int = DEFAULT_LIMIT,
    save: bool = True,
) -> list[AlertRun]:
    """Each alert's matches archived since its previous run; records this run unless
    `save` is false. The same articles are never reported twice by saved runs."""
    from archive.store import now_iso, open_db

    db = open_db(db_path)  # creates alert_state in an archive that lacks it
    try:
        conn = db.conn
        # One read snapshot for the whole run, so that the mark saved below covers exactly
        # the articles searched, even while a crawl is adding more.
        conn.execute("begin")
        (upto,) = conn.execute("select coalesce(max(id), 0) from articles").fetchone()
        states = {
            row[0]: row[1:]
            for row in conn.execute(
                "select alert, query, outlets, last_article_id, last_run from alert_state"
            )
        }
        runs = []
        for alert in alerts:
            outlets = json.dumps(list(alert.outlets))
            state = states.get(alert.name)
            run = AlertRun(alert)
            after = 0
            if state and (state[0], state[1]) == (alert.query, outlets):
                after, run.since = state[2] or 0, state[3]
            elif state:
                run.restarted = True
            params = {
                "match": fts_query(alert.query),
                "after": after,
                "upto": upto,
                "outlets": "," + ",".join(alert.outlets) + "," if alert.outlets else "",
            }
            (run.total,) = conn.execute(f"select count(*) {MATCH_SQL}", params).fetchone()
            rows = conn.execute(
                HITS_SQL, {**params, "start": MARK_START, "end": MARK_END, "limit": limit}
            ).fetchall()
            run.hits = [Hit(*row) for row in rows]
            runs.append(run)
        conn.execute("commit")
        if save:
            when = now_iso()
            with conn:
                conn.executemany(
                    "insert or replace into alert_state "
                    "(alert, query, outlets, last_article_id, last_run, last_new) "
                    "values (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            run.alert.name,
                            run.alert.query,
                            json.dumps(list(run.alert.outlets)),
                            upto,
                            when,
                            run.total,
                        )
                        for run in runs
                    ],
                )
        return runs
    except sqlite3.Error:
        if conn.in_transaction:
            conn.rollback()
        raise
    finally:
        db.conn.close()


def feed_path(alert: Alert, database: str) -> str:
    """The Datasette path of an alert's Atom feed: the `feed` query for one outlet or
    all, the `alert_feed` query (archive/datasette/metadata.yml) for several."""
    if len(alert.outlets) > 1:
        args = {"q": alert.query, "outlets": ",".join(alert.outlets)}
        return f"/{database}/alert_feed.atom?{urlencode(args)}"
    args = {"q": alert.query, **({"outlet": alert.outlets[0]} if alert.outlets else {})}
    return f"/{database}/feed.atom?{urlencode(args)}"


# -- the report ---------------------------------------------------------------------


def _highlight(snippet: str, tty: bool) -> str:
    start, end = ("\x1b[1;33m", "\x1b[0m") if tty else ("**", "**")
    return " ".join(snippet.split()).replace(MARK_START, start).replace(MARK_END, end)


def report_lines(
    runs: list[AlertRun], database: str, datasette: str = "", tty: bool = False
) -> list[str]:
    """What `make alerts` prints: each alert's new matches, grouped by alert."""
    lines: list[str] = []
    for run in runs:
        alert = run.alert
        since = f"since {run.since[:16].replace('T', ' ')} UTC" if run.since else ""
        if run.restarted:
            since = "(query or outlets changed: every match counts as new)"
        elif not run.since:
            since = "(first run: every match counts as new)"
        if run.total:
            count = f"{run.total} new match{'es' if run.total != 1 else ''} {since}"
        else:
            count = f"nothing new {since}"
        lines.append(f"{alert.name} — {alert.query} — {alert.scope}: {count}".rstrip())
        lines.append(f"    Atom feed: {datasette.rstrip('/')}{feed_path(alert, database)}")
        for number, hit in enumerate(run.hits, 1):
            day = (hit.published or "no date")[:10]
            lines.append(f"  {number:>2}. {hit.title or '(untitled)'}")
            lines.append(f"      {hit.outlet} · {day} · {hit.url}")
            lines.append(
                textwrap.fill(
                    _highlight(hit.snippet or "", tty),
                    width=96,
                    initial_indent="      ",
                    subsequent_indent="      ",
                )
            )
        if run.total > len(run.hits):
            lines.append(f"      … and {run.total - len(run.hits)} more (see the feed)")
    new = sum(run.total for run in runs)
    with_news = [run for run in runs if run.total]
    lines.append(
        f"{len(runs)} alert{'s' if len(runs) != 1 else ''}, {new} new "
        f"match{'es' if new != 1 else ''}"
        + (": " + ", ".join(f"{run.alert.name} {run.total}" for run in with_news) if new else "")
    )
    return lines
