"""Syndication: near-duplicate articles grouped into stories (archive/stories.py).

Through the real pipeline: both demo outlets crawled (L’Écho d’Anatolie republishes
nine of Turquie Demain's articles with small edits), then `group_stories`, then the
`stories` canned query in a real Datasette. Plus the grouping rules on crafted
archives: short texts, merges, a new threshold.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
from fixtures.demo_outlet.scenario import cli, monitoring_scenario

from archive import stories
from archive.store import open_db


@pytest.fixture(scope="session")
def scenario(tmp_path_factory, demo_site, request):
    return monitoring_scenario(tmp_path_factory, demo_site, request)


def article_ids(scenario, outlet: str) -> dict[str, int]:
    """Archived article id by URL path, for one outlet."""
    base = scenario.turquie_url if outlet == "turquie-demain" else scenario.echo_url
    return {
        url.removeprefix(base.rstrip("/")): article_id
        for article_id, url in scenario.query(
            "select id, url from articles where outlet = ?", [outlet]
        )
    }


def expected_pairs(scenario, demo_site) -> set[frozenset[int]]:
    """The ground truth: each republication and the original it takes, as article ids."""
    originals = {a["id"]: a for a in demo_site.load_articles()}
    turquie = article_ids(scenario, "turquie-demain")
    echo = article_ids(scenario, "echo-anatolie")
    pairs = set()
    for article in demo_site.load_articles("echo-anatolie"):
        if "republishes" in article:
            original = originals[article["republishes"]]
            pairs.add(
                frozenset(
                    {
                        turquie[demo_site.article_path(original)],
                        echo[demo_site.article_path(article)],
                    }
                )
            )
    return pairs


# -- the demo outlets, crawled ------------------------------------------------------


def test_each_republication_shares_its_story_with_the_original(scenario, demo_site):
    grouped: dict[int, set[int]] = {}
    for article_id, story_id in scenario.query(
        "select id, story_id from articles where story_id is not null"
    ):
        grouped.setdefault(story_id, set()).add(article_id)
    pairs = expected_pairs(scenario, demo_site)
    assert len(pairs) == 9
    # Every republication is grouped with its original, and with nothing else.
    assert {frozenset(members) for members in grouped.values()} == pairs


def test_unrelated_articles_form_no_story(scenario, demo_site):
    in_pairs = set().union(*expected_pairs(scenario, demo_site))
    alone = scenario.query("select id from articles where story_id is null")
    (total,) = scenario.query("select count(*) from articles")[0]
    assert {row[0] for row in alone} == {
        row[0] for row in scenario.query("select id from articles")
    } - in_pairs
    # 42 + 13 articles crawled first, then the new one, which is about a topic of its own.
    assert total == 56 and len(alone) == 56 - 18
    (new_story,) = scenario.query(
        "select story_id from articles where title = ?", [scenario.new_article["title"]]
    )[0]
    assert new_story is None


def test_each_story_says_who_published_first(scenario):
    rows = scenario.query(
        "select stories.first_outlet, stories.outlets, stories.outlet_count, stories.articles,"
        " articles.outlet, stories.first_published, articles.published "
        "from stories join articles on articles.id = stories.first_article_id"
    )
    assert len(rows) == 9
    for first_outlet, outlets, outlet_count, count, outlet, first_published, published in rows:
        assert first_outlet == outlet == "turquie-demain"
        assert json.loads(outlets) == ["turquie-demain", "echo-anatolie"]
        assert (outlet_count, count) == (2, 2)
        assert first_published == published
    # 10:30+01:00 is later than 11:45+03:00: the first is found by instant, not by string.
    (first,) = scenario.query(
        "select stories.first_outlet from stories join articles on articles.story_id = "
        "stories.id where articles.published = '2024-01-19T10:30:00+01:00'"
    )[0]
    assert first == "turquie-demain"


def test_grouping_is_incremental_and_idempotent(scenario):
    first, again, after_second_crawl = scenario.stories
    # Each crawl groups the articles it archived before it ends, so an explicit run
    # afterwards has nothing left to do and changes nothing.
    assert (first.processed, first.new_stories, first.joined, first.merged) == (0, 0, 0, 0)
    assert (again.processed, again.new_stories, again.joined, again.merged) == (0, 0, 0, 0)
    assert again.stories == first.stories == 9
    assert (after_second_crawl.processed, after_second_crawl.new_stories) == (0, 0)
    assert after_second_crawl.multi_outlet == 9
    (signed,) = scenario.query("select count(*) from article_minhash")[0]
    (bands,) = scenario.query("select count(*) from lsh_bands")[0]
    assert signed == 56 and bands == 56 * 18  # 0.6: 18 bands of 7 rows, as datasketch picks


def test_stories_command_prints_a_summary(scenario, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(scenario.db, db)
    done = cli("stories", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "no new article to group (threshold 0.6: 18 bands × 7 rows)" in done.stdout
    assert "9 stories in the archive, 9 carried by two or more outlets" in done.stdout
    missing = cli("stories", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no archive at" in missing.stderr


def test_a_new_threshold_regroups_from_the_stored_signatures(scenario, tmp_path):
    db = tmp_path / "copy.db"
    shutil.copy(scenario.db, db)
    strict = stories.group_stories(db, threshold=0.95)
    assert strict.regrouped == "threshold 0.6 → 0.95" and strict.regrouped_articles == 56
    assert (
        "Regrouped every article (threshold 0.6 → 0.95): 56 from their stored"
        in (strict.lines()[0])
    )
    assert strict.stories == 0  # the republishers' edits keep every pair under 0.95
    assert stories.group_stories(db).threshold == 0.95  # the archive keeps its threshold
    # Back to 0.6: the same stories, from the signatures alone (no text is read).
    conn = sqlite3.connect(db)
    conn.execute("update articles set text = ''")
    conn.commit()
    again = stories.group_stories(db, threshold=0.6)
    assert (again.stories, again.multi_outlet, again.processed) == (9, 9, 0)
    pairs = conn.execute(
        "select count(*) from articles where story_id is not null group by story_id"
    ).fetchall()
    conn.close()
    assert pairs == [(2,)] * 9


def test_stories_canned_query_in_datasette(scenario):
    base = f"{scenario.datasette_url}/{scenario.database}"
    rows = httpx.get(f"{base}/stories.json", params={"_shape": "array"}).json()
    assert len(rows) == 9
    assert all(json.loads(row["outlets"]) == ["turquie-demain", "echo-anatolie"] for row in rows)
    assert all(row["first_outlet"] == "turquie-demain" for row in rows)
    assert [row["first_published"] for row in rows] == sorted(
        (row["first_published"] for row in rows), reverse=True
    )
    # Limited to one outlet, and the articles of one story.
    only_echo = httpx.get(
        f"{base}/stories.json", params={"_shape": "array", "outlet": "echo-anatolie"}
    ).json()
    assert len(only_echo) == 9
    nobody = httpx.get(f"{base}/stories.json", params={"_shape": "array", "outlet": "x"}).json()
    assert nobody == []
    members = httpx.get(
        f"{base}/story.json", params={"_shape": "array", "story": rows[0]["story"]}
    ).json()
    assert [m["outlet"] for m in members] == ["turquie-demain", "echo-anatolie"]
    # On the page, each story's title leads to its first article.
    html = httpx.get(f"{base}/stories").text
    assert html.count('class="veille-title"') == 9
    # And that article's page shows the same story elsewhere.
    (first_id,) = scenario.query(
        "select first_article_id from stories where id = ?", [rows[0]["story"]]
    )[0]
    page = httpx.get(f"{base}/articles/{first_id}").text
    assert members[1]["title"].split(" ")[0] in page


# -- the rules, on crafted archives --------------------------------------------------

WORDS = [f"mot{i}" for i in range(400)]


def text(start: int, end: int, change: int | None = None) -> str:
    words = WORDS[start:end]
    if change is not None:
        words = [*words[:change], "autre", *words[change + 1 :]]
    return " ".join(words)


def crafted(path: Path, texts: list[str], outlet: str = "x") -> sqlite3.Connection:
    db = open_db(path)
    db["outlets"].upsert({"slug": outlet, "name": outlet}, pk="slug")
    for number, body in enumerate(texts, 1):
        db["articles"].insert(
            {
                "url": f"http://x.test/{number}",
                "outlet": outlet,
                "title": f"Article {number}",
                "text": body,
                "published": f"2024-01-{number:02d}T10:00:00+00:00",
            }
        )
    db.conn.close()
    return sqlite3.connect(path)


def story_of(conn: sqlite3.Connection) -> list[int | None]:
    return [row[0] for row in conn.execute("select story_id from articles order by id")]


def test_an_article_that_bridges_two_stories_merges_them(tmp_path):
    conn = crafted(
        tmp_path / "a.db",
        [
            text(0, 100),  # A
            text(0, 100, change=50),  # A', a near-copy of A
            text(60, 160),  # B, unrelated to A (a fifth of their shingles in common)
            text(60, 160, change=110),  # B'
            text(30, 130),  # C: half of A, half of B
        ],
    )
    summary = stories.group_stories(tmp_path / "a.db", threshold=0.4)
    assert (summary.new_stories, summary.merged) == (2, 1)
    assert len(set(story_of(conn))) == 1 and None not in story_of(conn)
    ((count, first),) = conn.execute("select articles, first_article_id from stories").fetchall()
    assert (count, first) == (5, 1)


def test_short_texts_belong_to_no_story(tmp_path):
    short = text(0, stories.MIN_WORDS - 1)
    conn = crafted(tmp_path / "b.db", [short, short, text(0, 80), text(0, 80)])
    summary = stories.group_stories(tmp_path / "b.db")
    assert (summary.processed, summary.too_short, summary.new_stories) == (4, 2, 1)
    first, second, third, fourth = story_of(conn)
    assert first is None and second is None and third == fourth is not None


def test_threshold_must_be_a_fraction(tmp_path):
    crafted(tmp_path / "c.db", [])
    with pytest.raises(ValueError, match="between 0 and 1"):
        stories.group_stories(tmp_path / "c.db", threshold=1.5)


def test_shingles_fold_accents_and_punctuation():
    assert stories.normalise("Érevan, l’Arménie et L'ARMÉNIE") == [
        "erevan",
        "l",
        "armenie",
        "et",
        "l",
        "armenie",
    ]
    words = stories.normalise("un deux trois quatre cinq six")
    assert stories.shingles(words) == {b"un deux trois quatre cinq", b"deux trois quatre cinq six"}


def test_bands_and_rows_are_datasketchs():
    from datasketch import MinHashLSH

    for threshold in (0.5, 0.6, 0.8):
        lsh = MinHashLSH(threshold=threshold, num_perm=stories.NUM_PERM)
        assert stories.lsh_params(threshold) == (lsh.b, lsh.r)
    values, words = stories.sign(text(0, 120))
    assert words == 120 and values is not None and len(stories.to_blob(values)) == 512
    again, _ = stories.sign(text(0, 120))
    assert stories.band_hashes(values, 18, 7) == stories.band_hashes(again, 18, 7)
    assert stories.similarity(values, stories.from_blob(stories.to_blob(again))) == 1.0
