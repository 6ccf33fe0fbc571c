"""Full-text search of the archive, as people type queries.

Users write `Karabakh`, `"gaz naturel"`, `négoci*`, `Ankara OR Bakou`,
`Turquie -football`. FTS5 has its own syntax in which a hyphen or a quote is an
error, so every query goes through `fts_query`, which keeps the operators
people mean and quotes everything else. Datasette's canned query uses the same
function (registered by the project's plugin), so the terminal and the browser
agree on what a query means.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
OPERATORS = {"AND", "OR", "NOT"}
MARK_START, MARK_END = "\x02", "\x03"  # snippet markers no article text contains


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(query: str) -> str:
    """A safe FTS5 MATCH expression for a user's query.

    Phrases stay phrases, a trailing `*` is a prefix search, AND/OR/NOT (in
    capitals) are operators, a leading `-` excludes a word, anything else is a
    quoted term so punctuation can never be a syntax error.
    """
    parts: list[str] = []
    for token in TOKEN.findall(query or ""):
        if token in ("(", ")"):
            continue
        if token.startswith('"'):
            phrase = token.strip('"').strip()
            if phrase:
                parts.append(_quote(phrase))
            continue
        if token in OPERATORS:
            if parts and parts[-1] not in OPERATORS:
                parts.append(token)
            continue
        negate = token.startswith("-") and len(token) > 1
        term = token[1:] if negate else token
        prefix = term.endswith("*")
        term = term.rstrip("*")
        if not re.search(r"\w", term):
            continue
        quoted = _quote(term) + ("*" if prefix else "")
        if negate and parts and parts[-1] not in OPERATORS:
            parts.extend(["NOT", quoted])
        elif negate:
            continue  # FTS5 cannot start with NOT: an exclusion alone matches nothing useful
        else:
            parts.append(quoted)
    while parts and parts[-1] in OPERATORS:
        parts.pop()
    # An empty phrase matches nothing, where an empty MATCH would be a syntax error.
    return " ".join(parts) or '""'


SEARCH_SQL = """
select
  articles.id, articles.outlet, articles.published, articles.title, articles.url,
  snippet(articles_fts, 1, :mark_start, :mark_end, '…', 24) as snippet
from articles_fts
join articles on articles.rowid = articles_fts.rowid
where articles_fts match :match
  and (:outlet = '' or articles.outlet = :outlet)
order by {order}
limit :limit
"""


@dataclass
class Hit:
    id: int
    outlet: str
    published: str | None
    title: str | None
    url: str
    snippet: str


def search(
    db_path: str | Path,
    query: str,
    limit: int = 20,
    outlet: str = "",
    newest_first: bool = False,
) -> list[Hit]:
    """Best matches for a query: by relevance (bm25), or newest first."""
    match = fts_query(query)
    if match == '""':
        return []
    uri = f"file:{Path(db_path).resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        order = "articles.published desc" if newest_first else "rank"
        rows = conn.execute(
            SEARCH_SQL.format(order=order),
            {
                "match": match,
                "outlet": outlet or "",
                "limit": limit,
                "mark_start": MARK_START,
                "mark_end": MARK_END,
            },
        ).fetchall()
    finally:
        conn.close()
    return [Hit(*row) for row in rows]
