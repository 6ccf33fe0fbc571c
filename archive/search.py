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


# Newest-first search reads the newest WINDOW matches by rowid (archiving order, cheap in
# FTS5) and only then looks further back, by date, for older-rowid articles that beat them.
# Each match in the window costs an article row read; a few times the page is enough for
# the floor to be close to the answer's oldest date when rowid and date orders agree.
# A deeper page widens the window to every row down to its own.
WINDOW = 300
# A query with few matches reads them all instead: the walk back from its window's floor
# crosses every article published since its hundredth newest match, about
# 100 / matches of the archive, where reading each match costs one article row. The row
# costs about 70 steps of that walk (1M articles: 10 µs against 0.15 µs), so reading
# them all is cheaper while matches² < 1.5 × articles (1,200 matches in a million).
# Counting stops at COUNT_CAP matches, which costs little even for the commonest word.
WALK_STEPS_PER_ROW = 1.5
COUNT_CAP = 5000
# Pages past this one give the last: each page costs every row above it, and a date
# range reaches further back at the cost of the first page.
MAX_PAGE = 100


def search_sql(
    columns: str,
    match: str,
    filters: str = "",
    unfiltered: str = "1",
    limit: int = 100,
    walk_steps_per_row: float = WALK_STEPS_PER_ROW,
    sort: str = ":sort",
    page: str = "1",
) -> str:
    """One query answering a search by relevance, or newest first when `sort` (an SQL
    expression, the `:sort` parameter unless given) is 'date'.

    `columns` is the select list over `articles` and `articles_fts` (snippet() included),
    `match` the MATCH expression, `filters` extra `and ...` terms on `articles`, and
    `unfiltered` a constant expression true when no filter is set. `page` (an SQL
    expression; empty, not a number or below 1 is the first, above MAX_PAGE the last)
    picks which `limit` rows: the second page holds the rows after the first `limit`.
    Each plan is a branch guarded by constant terms, which SQLite tests once and skips
    when false; snippets and the article rows are read only for the rows returned, never
    for every match. Newest first, `articles.published` in `columns` comes from the
    plan's own rows: read from the article row it would cost a walk past the text,
    stored before it. `walk_steps_per_row` only moves the line between reading all the
    matches and walking back from a window's floor: both give the same rows.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    newest_columns = columns.replace("articles.published", "newest.published")
    return f"""with
paging as (
  select {limit} * (number - 1) as skip, {limit} * number as depth,
    max({WINDOW}, {limit} * number) as window
  from (select min(max(coalesce(cast({page} as integer), 1), 1), {MAX_PAGE}) as number)
),
-- By relevance with filters: only the matches filtered in are ranked.
by_rank_filtered as (
  select articles.id, articles_fts.rank from articles_fts
  join articles on articles.rowid = articles_fts.rowid
  where {sort} is not 'date' and not ({unfiltered}) and articles_fts match {match}{filters}
  -- The unary + keeps FTS5 from ranking every match itself: only those filtered in are.
  -- Equal ranks in id order: each page starts where the one before it stopped.
  order by +articles_fts.rank, articles.id
  limit {limit} offset (select skip from paging)
),
-- Newest first: the newest matches in archiving order, filtered. Fewer than the window
-- means these are all the matches; otherwise the depth-th newest date among them is a
-- floor that only older-rowid articles (back-filled history) published after it can beat.
in_window as (
  select articles.id, articles.published from articles_fts
  join articles on articles.rowid = articles_fts.rowid
  where {sort} = 'date' and articles_fts match {match}{filters}
  order by articles_fts.rowid desc limit (select window from paging)
),
-- A full window of a query with few matches in all: read them all instead of walking
-- back (see WALK_STEPS_PER_ROW). CASE counts the matches only when the window is full.
plan as (
  select case
    when (select count(*) from in_window) < (select window from paging) then 'window'
    when (
      select n < {COUNT_CAP} and n * n < {walk_steps_per_row} * (select max(id) from articles)
      from (
        select count(*) as n from (
          select 1 from articles_fts
          where {sort} = 'date' and articles_fts match {match} limit {COUNT_CAP}
        )
      )
    ) then 'every match'
    else 'window and walk'
  end as name
),
every_match as (
  select articles.id, articles.published from articles_fts
  join articles on articles.rowid = articles_fts.rowid
  where {sort} = 'date' and articles_fts match {match}{filters}
  order by articles_fts.rowid desc
  -- A LIMIT of 0 skips the scan: only a query that reads all its matches runs it.
  limit (select case when name = 'every match' then -1 else 0 end from plan)
),
recent as (
  select id, published from in_window where (select name from plan) != 'every match'
  union all
  select id, published from every_match
),
floor as (
  select case when (select name from plan) != 'window and walk' then null
    else coalesce(
      (select published from recent order by published desc
       limit 1 offset (select depth - 1 from paging)),
      ''
    )
  end as published
),
older as (
  -- Walks the published index down to the floor (empty at once when it is NULL); the
  -- unary + keeps the planner off the rowid range, which would scan all older articles.
  -- Without filters the walk reads the index alone: with them, every article it passes.
  select articles.id, articles.published from articles
  where ({unfiltered}) and articles.published > (select published from floor)
    and +articles.id < (select min(id) from recent)
    and exists (select 1 from articles_fts
                where articles_fts.rowid = articles.id and articles_fts match {match})
  union all
  select articles.id, articles.published from articles
  where not ({unfiltered}) and articles.published > (select published from floor)
    and +articles.id < (select min(id) from recent){filters}
    and exists (select 1 from articles_fts
                where articles_fts.rowid = articles.id and articles_fts match {match})
),
newest as (
  select id, published from recent
  union all
  select id, published from older
  -- Equal dates newest archived first, which keeps the floor exact and pages apart.
  order by published desc, id desc limit {limit} offset (select skip from paging)
)
-- Only one of the three selects below has rows. By relevance without filters, FTS5 ranks
-- every match itself and hands them over best first with their positions, so the
-- snippets and article rows of the rows kept cost no further index lookup.
select * from (
  select {columns}
  from articles_fts
  cross join articles on articles.rowid = articles_fts.rowid
  where {sort} is not 'date' and ({unfiltered}) and articles_fts match {match}
  -- With its LIMIT, SQLite must keep this ORDER BY inside the compound.
  order by articles_fts.rank limit {limit} offset (select skip from paging)
)
union all
-- With filters the ranked rows are spread over the whole archive: CROSS JOIN keeps
-- them the outer loop, one FTS5 lookup a row.
select * from (
  select {columns}
  from by_rank_filtered as ranked
  cross join articles_fts on articles_fts.rowid = ranked.id
  join articles on articles.id = ranked.id
  where articles_fts match {match}
  order by ranked.rank, ranked.id limit {limit}
)
union all
-- Newest first the rows lie in a narrow rowid range: one FTS5 cursor walks it, which
-- costs far less than looking each row up across every segment of the index.
select * from (
  select {newest_columns}
  from articles_fts
  join newest on newest.id = articles_fts.rowid
  join articles on articles.id = newest.id
  where {sort} = 'date' and articles_fts match {match}
    and articles_fts.rowid >= (select min(id) from newest)
    and articles_fts.rowid <= (select max(id) from newest)
  order by newest.published desc, newest.id desc limit {limit}
)"""


@dataclass
class Hit:
    id: int
    outlet: str
    published: str | None
    title: str | None
    url: str
    snippet: str


HIT_COLUMNS = (
    "articles.id, articles.outlet, articles.published, articles.title, articles.url,\n"
    "  snippet(articles_fts, 1, :mark_start, :mark_end, '…', 24) as snippet"
)
OUTLET_FILTER = "\n    and (:outlet = '' or articles.outlet = :outlet)"


def search(
    db_path: str | Path,
    query: str,
    limit: int = 20,
    outlet: str = "",
    newest_first: bool = False,
    page: int = 1,
) -> list[Hit]:
    """Best matches for a query: by relevance (bm25), or newest first; `page` 2 holds
    the `limit` matches after the first page's."""
    match = fts_query(query)
    if match == '""' or limit < 1 or page < 1:
        return []
    uri = f"file:{Path(db_path).resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        sql = search_sql(HIT_COLUMNS, ":match", OUTLET_FILTER, ":outlet = ''", limit, page=":page")
        rows = conn.execute(
            sql,
            {
                "page": page,
                "match": match,
                "outlet": outlet or "",
                "sort": "date" if newest_first else "",
                "mark_start": MARK_START,
                "mark_end": MARK_END,
            },
        ).fetchall()
    finally:
        conn.close()
    return [Hit(*row) for row in rows]
