"""Outlet health: is each outlet still reachable, still publishing, still readable?

One SQL view, `outlet_health`, so that Datasette (its home page and a canned
query) and `python -m archive health` read the same thing. One row per outlet:

- `last_crawl`: when the outlet was last fetched, and `last_run_id`;
- `last_success`: the last fetch the outlet answered (HTTP 2xx or 3xx);
- `articles_24h`, `articles_7d`: articles published in the last 24 hours and 7 days
  (by `published`, else by when they were archived);
- `fetches`, `failed`, `error_rate`: fetches of its last crawl, how many failed;
- `article_pages`, `not_article`: article pages of its last crawl that were
  answered, and how many of them gave no article;
- `active_days`: days with at least one article among the 7 days before the last 3;
- `silent` (0/1) and `silent_reason`, set in two cases:
  1. the outlet *normally publishes daily* — it published on at least 5 of the 7
     days before the last 3 days (`active_days` ≥ 5) — and published nothing in
     the last 3 days (72 hours);
  2. extraction fails on most of its pages, as after a change of layout: in its
     last crawl, at least 3 article pages were answered and more than half of
     them were `not-article`;
- `status`: `running` (a crawl is under way), `down` (its homepage or every fetch
  failed in its last crawl), `silent`, `unknown` (never crawled), `degraded` (some
  fetches failed), else `ok`; `reason` says why in words.

Days are UTC days and "now" is the database's clock (`datetime('now')`, UTC) when
the view is read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

GAP_DAYS = 3  # days without an article before a daily outlet counts as silent
BASELINE_DAYS = 7  # the days before the gap that tell whether it publishes daily
DAILY_MIN_DAYS = 5  # of those, days with at least one article: "normally publishes daily"
LAYOUT_MIN_PAGES = 3  # article pages a crawl must have answered to judge its extraction

SELECT_SQL = f"""
with
last_fetch as (
  select
    outlets.slug as outlet,
    outlets.name as name,
    (select fetches.run_id from fetches where fetches.outlet = outlets.slug
      order by fetches.fetched_at desc limit 1) as run_id,
    (select fetches.fetched_at from fetches where fetches.outlet = outlets.slug
      order by fetches.fetched_at desc limit 1) as fetched_at,
    (select fetches.fetched_at from fetches where fetches.outlet = outlets.slug
      and fetches.status between 200 and 399
      order by fetches.fetched_at desc limit 1) as last_success
  from outlets
),
run_fetches as (
  -- The fetches of the outlets' last runs, counted per run and outlet. Read run by run
  -- through the run_id index: outlets crawled together share their last run, which is
  -- then read once rather than once per outlet. Fetches recorded outside any run
  -- (run_id null) are read per outlet instead.
  select
    run_id,
    outlet,
    count(*) as fetches,
    sum(outcome = 'failed') as failed,
    sum(role = 'homepage' and outcome = 'failed') as homepage_failed,
    sum(role = 'article' and outcome not in ('failed', 'skipped')) as article_pages,
    sum(role = 'article' and outcome = 'not-article') as not_article
  from (
    select run_id, outlet, role, outcome from fetches
    where run_id in (select run_id from last_fetch)
    union all
    select run_id, outlet, role, outcome from fetches
    where run_id is null and outlet in (
      select outlet from last_fetch where run_id is null and fetched_at is not null)
  )
  group by run_id, outlet
),
last_run as (
  select
    last_fetch.outlet,
    coalesce(run_fetches.fetches, 0) as fetches,
    coalesce(run_fetches.failed, 0) as failed,
    coalesce(run_fetches.homepage_failed, 0) as homepage_failed,
    coalesce(run_fetches.article_pages, 0) as article_pages,
    coalesce(run_fetches.not_article, 0) as not_article
  from last_fetch
  left join run_fetches on run_fetches.outlet = last_fetch.outlet
    and run_fetches.run_id is last_fetch.run_id and last_fetch.fetched_at is not null
),
recent as (
  -- Articles of the last {GAP_DAYS + BASELINE_DAYS} days (a day more on the raw strings,
  -- whose offsets vary), at their UTC instant.
  select outlet, datetime(published) as at from articles
  where published >= date('now', '-{GAP_DAYS + BASELINE_DAYS + 1} days')
  union all
  select outlet, datetime(first_seen) as at from articles
  where published is null and first_seen >= date('now', '-{GAP_DAYS + BASELINE_DAYS + 1} days')
),
publishing as (
  select
    outlet,
    sum(at >= datetime('now', '-1 day')) as articles_24h,
    sum(at >= datetime('now', '-7 days')) as articles_7d,
    sum(at >= datetime('now', '-{GAP_DAYS} days')) as articles_gap,
    count(distinct case
      when at >= datetime('now', '-{GAP_DAYS + BASELINE_DAYS} days')
        and at < datetime('now', '-{GAP_DAYS} days') then date(at) end) as active_days
  from recent
  group by outlet
),
judged as (
  select
    last_fetch.outlet,
    last_fetch.name,
    last_fetch.run_id as last_run_id,
    coalesce(runs.finished, last_fetch.fetched_at) as last_crawl,
    runs.status as run_status,
    last_fetch.last_success,
    coalesce(publishing.articles_24h, 0) as articles_24h,
    coalesce(publishing.articles_7d, 0) as articles_7d,
    last_run.fetches,
    last_run.failed,
    case when last_run.fetches > 0
      then round(1.0 * last_run.failed / last_run.fetches, 3) end as error_rate,
    last_run.homepage_failed,
    last_run.article_pages,
    last_run.not_article,
    coalesce(publishing.active_days, 0) as active_days,
    coalesce(publishing.articles_gap, 0) as articles_gap
  from last_fetch
  join last_run on last_run.outlet = last_fetch.outlet
  left join publishing on publishing.outlet = last_fetch.outlet
  left join runs on runs.id = last_fetch.run_id
),
flagged as (
  select *,
    case
      when active_days >= {DAILY_MIN_DAYS} and articles_gap = 0 then
        'published on ' || active_days || ' of the {BASELINE_DAYS} days before, '
        || 'nothing in the last {GAP_DAYS} days'
      when article_pages >= {LAYOUT_MIN_PAGES} and not_article * 2 > article_pages then
        not_article || ' of ' || article_pages || ' article pages gave no article in the '
        || 'last crawl (a change of layout?)'
    end as silent_reason
  from judged
)
select
  outlet,
  name,
  case
    when run_status = 'running' then 'running'
    when homepage_failed > 0 or (fetches > 0 and failed = fetches) then 'down'
    when silent_reason is not null then 'silent'
    when last_crawl is null then 'unknown'
    when failed > 0 then 'degraded'
    else 'ok'
  end as status,
  case
    when run_status = 'running' then 'a crawl is running'
    when homepage_failed > 0 or (fetches > 0 and failed = fetches)
      then 'unreachable in the last crawl'
    when silent_reason is not null then silent_reason
    when last_crawl is null then 'never crawled'
    when failed > 0 then failed || ' of ' || fetches || ' fetches failed in the last crawl'
    else fetches || ' fetches, none failed'
  end as reason,
  silent_reason is not null as silent,
  silent_reason,
  last_crawl,
  last_run_id,
  last_success,
  articles_24h,
  articles_7d,
  fetches,
  failed,
  error_rate,
  article_pages,
  not_article,
  active_days
from flagged
order by outlet"""

# SQLite stores the statement with its leading keywords in capitals: written so, the
# stored view compares equal and an archive's schema is not rewritten at every open.
VIEW_SQL = f"CREATE VIEW outlet_health as{SELECT_SQL}"


def ensure_view(db: sqlite_utils.Database) -> None:
    """Create the view, or replace it when this code defines it differently."""
    row = db.execute("select sql from sqlite_master where type = 'view' and name = 'outlet_health'")
    found = row.fetchone()
    if found and found[0] == VIEW_SQL:
        return
    with db.conn:
        if found:
            db.execute("drop view outlet_health")
        db.execute(VIEW_SQL)


def outlet_health(db_path: str | Path) -> list[dict[str, Any]]:
    """The view's rows, read-only. An archive written by older code has no view yet:
    the same query is then run directly."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        has_view = conn.execute(
            "select sql from sqlite_master where type = 'view' and name = 'outlet_health'"
        ).fetchone()
        sql = "select * from outlet_health" if has_view and has_view[0] == VIEW_SQL else SELECT_SQL
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "never"


def report_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The view as a table for the terminal."""
    if not rows:
        return ["No outlet in this archive yet (run `make crawl` first)."]
    width = max(len("outlet"), *(len(row["outlet"]) for row in rows))
    lines = [
        f"{'outlet':<{width}}  {'status':<8}  {'last crawl (UTC)':<16}  "
        f"{'last success':<16}  {'24 h':>5}  {'7 d':>5}  {'errors':>6}  why"
    ]
    for row in rows:
        rate = row["error_rate"]
        errors = f"{rate:.0%}" if rate is not None else "—"
        lines.append(
            f"{row['outlet']:<{width}}  {row['status']:<8}  {_when(row['last_crawl']):<16}  "
            f"{_when(row['last_success']):<16}  {row['articles_24h']:>5}  "
            f"{row['articles_7d']:>5}  {errors:>6}  {row['reason']}"
        )
    problems = [row for row in rows if row["status"] in ("down", "silent")]
    lines.append(
        f"{len(rows)} outlet{'s' if len(rows) != 1 else ''}, "
        + (
            f"{len(problems)} needing attention: {', '.join(r['outlet'] for r in problems)}"
            if problems
            else "none down or silent"
        )
        + f" (silent: no article for {GAP_DAYS} days from an outlet that published on "
        f"{DAILY_MIN_DAYS} of the {BASELINE_DAYS} days before, or most article pages "
        "unreadable)"
    )
    return lines
