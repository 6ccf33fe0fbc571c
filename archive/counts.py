"""Per-outlet article counts, kept current by triggers.

The home page lists every outlet with its number of articles and its newest date.
Counting them when the page is read means walking an index of every article
(110 ms at a million articles, on every request); these triggers keep the figures
in a small table instead, at the cost of one row update per article written.
Articles are never deleted by veille itself, but the triggers cover deletes and
changes of outlet or date too, so the table stays exact whatever writes to it.
"""

from __future__ import annotations

import sqlite_utils

TABLE = "outlet_counts"

# The newest date is looked up in the (outlet, published) index: O(log n) per write.
_LATEST = "(select max(published) from articles where outlet = {which}.outlet)"

TRIGGERS = {
    "outlet_counts_ai": f"""CREATE TRIGGER [outlet_counts_ai] after insert on [articles] begin
  insert into [{TABLE}] (outlet, articles, latest_published) values (new.outlet, 0, null)
    on conflict (outlet) do nothing;
  update [{TABLE}] set articles = articles + 1,
    latest_published = case when new.published > coalesce(latest_published, '')
      then new.published else latest_published end
    where outlet = new.outlet;
end""",
    "outlet_counts_ad": f"""CREATE TRIGGER [outlet_counts_ad] after delete on [articles] begin
  update [{TABLE}] set articles = articles - 1, latest_published = {_LATEST.format(which="old")}
    where outlet = old.outlet;
end""",
    "outlet_counts_au": f"""CREATE TRIGGER [outlet_counts_au]
after update of outlet, published on [articles] begin
  update [{TABLE}] set articles = articles - 1 where outlet = old.outlet;
  insert into [{TABLE}] (outlet, articles, latest_published) values (new.outlet, 0, null)
    on conflict (outlet) do nothing;
  update [{TABLE}] set articles = articles + 1 where outlet = new.outlet;
  update [{TABLE}] set latest_published = {_LATEST.format(which=TABLE)}
    where outlet in (old.outlet, new.outlet);
end""",
}


def ensure_schema(db: sqlite_utils.Database) -> None:
    """The counts table and its triggers; filled once from the articles when new."""
    existing = dict(db.execute("select name, sql from sqlite_master").fetchall())
    if TABLE in existing and all(existing.get(n) == sql for n, sql in TRIGGERS.items()):
        return
    with db.conn:
        created = TABLE not in existing
        db.execute(
            f"create table if not exists [{TABLE}] ("
            " outlet text primary key,"
            " articles integer not null,"
            " latest_published text)"
        )
        for name, sql in TRIGGERS.items():
            if existing.get(name) != sql:
                db.execute(f"drop trigger if exists [{name}]")
                db.execute(sql)
        if created:
            db.execute(
                f"insert into [{TABLE}] (outlet, articles, latest_published) "
                "select outlet, count(*), max(published) from articles group by outlet"
            )


def outlet_counts(db: sqlite_utils.Database) -> dict[str, tuple[int, str | None]]:
    """Articles and newest publication date of each outlet with articles."""
    rows = db.execute(f"select outlet, articles, latest_published from [{TABLE}]").fetchall()
    return {outlet: (count, latest) for outlet, count, latest in rows if count}
