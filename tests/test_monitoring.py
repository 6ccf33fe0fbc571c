"""Monitoring over time through real crawls: the demo outlet changes between them.

1. a first crawl archives the outlet (its WordPress API lists every post);
2. the outlet edits one article for real, one only in whitespace and punctuation,
   deletes one and publishes one; a crawl with RECHECK=due (nothing is due yet)
   finds the edits through the API's `modified_after` and the new article;
3. a crawl with RECHECK=all re-checks everything: the deleted article is removed;
4. a crawl with RECHECK=none of the unchanged outlet costs a fraction of the first.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pytest
from conftest import query_db, run_crawl, write_seeds

EDITED, RESTYLED, DELETED = 5, 6, 7
API_ONLY = "api-only"
NEW_TITLE = "Haut-Karabakh : un accord de délimitation paraphé à Érevan et à Bakou"
NEW_PARAGRAPH = (
    "Les deux délégations ont paraphé jeudi un premier protocole de délimitation couvrant "
    "une douzaine de kilomètres de frontière, selon un communiqué conjoint."
)


@dataclass
class Monitoring:
    db: object
    runs: list
    site: object
    articles: dict

    def query(self, sql: str, params=()) -> list[tuple]:
        return query_db(self.db, sql, params)

    def article(self, demo_id: int) -> tuple:
        path = self.articles[demo_id]
        (row,) = self.query(
            "select id, title, text, removed_at, removal_evidence, checks "
            "from articles where url like ?",
            [f"%{path}"],
        )
        return row


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory, demo_site):
    server = demo_site.make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    folder = tmp_path_factory.mktemp("monitoring")
    seeds = write_seeds(
        folder / "outlets.toml",
        [{"slug": "turquie-demain", "name": "Turquie Demain", "homepage": url}],
    )
    db = folder / "archive.db"
    site = server.site
    paths = {a["id"]: demo_site.article_path(a) for a in demo_site.load_articles()}
    api_only = site.publish(
        {
            "title": "Énergie : le gazoduc TurkStream a battu son record de livraisons",
            "paragraphs": [
                "Le gazoduc reliant la Russie à la Turquie sous la mer Noire a acheminé un "
                "volume record au cours du mois écoulé, selon l’opérateur turc BOTAŞ. " * 3,
                "Ankara entend faire du pays une plaque tournante du gaz pour l’Europe du "
                "Sud-Est, un projet que Bruxelles observe avec prudence. " * 2,
            ],
            "published": "2024-01-20T10:00:00+03:00",
            "unlisted": True,  # in no sitemap, feed or section yet: only the API lists it
        }
    )
    paths[API_ONLY] = api_only["path"]
    runs = [run_crawl(seeds, db, "--recheck", "none")]
    original = site.by_id[EDITED]
    site.edit(
        EDITED,
        title=NEW_TITLE,
        paragraphs=[*original["paragraphs"][:2], NEW_PARAGRAPH, *original["paragraphs"][2:]],
    )
    restyled = site.by_id[RESTYLED]
    site.edit(
        RESTYLED,
        paragraphs=[p.replace(", ", " , ").replace(".", " .") for p in restyled["paragraphs"]],
    )
    site.delete(DELETED)
    published = site.publish(
        {
            "title": "Chypre : Ankara plaide pour une solution à deux États devant l’ONU",
            "paragraphs": [
                "Le ministre turc des Affaires étrangères a de nouveau défendu mardi, devant "
                "l’Assemblée générale des Nations unies, une solution fondée sur deux États "
                "souverains et égaux à Chypre, estimant que les négociations sur une fédération "
                "avaient échoué à plusieurs reprises depuis un demi-siècle. " * 2,
                "Il a appelé la communauté internationale à reconnaître la réalité de l’île et à "
                "lever les restrictions imposées aux Chypriotes turcs. " * 2,
            ],
        }
    )
    paths[published["id"]] = published["path"]
    runs.append(run_crawl(seeds, db, "--recheck", "due"))
    runs.append(run_crawl(seeds, db, "--recheck", "all"))
    runs.append(run_crawl(seeds, db, "--recheck", "none"))
    server.shutdown()
    for result in runs:
        assert result.returncode == 0, result.stderr[-3000:]
    return Monitoring(db=db, runs=runs, site=site, articles=paths)


def test_first_crawl_uses_the_wordpress_api(monitoring):
    (api_rows,) = monitoring.query(
        "select count(*) from fetches where run_id = 1 and role = 'api' and status = 200"
    )[0]
    assert api_rows >= 1
    (via_api,) = monitoring.query(
        "select count(*) from articles where found_via = 'wordpress-api'"
    )[0]
    assert via_api > 0
    # The post that no sitemap, feed or section lists yet is archived all the same.
    path = monitoring.articles[API_ONLY]
    assert monitoring.query("select found_via from articles where url like ?", [f"%{path}"]) == [
        ("wordpress-api",)
    ]


def test_a_real_edit_becomes_a_new_version_found_through_the_api(monitoring):
    article_id, title, text, *_ = monitoring.article(EDITED)
    assert title == NEW_TITLE and NEW_PARAGRAPH in text
    versions = monitoring.query(
        "select version, title, run_id from article_versions v join fetches f "
        "on f.article_id = v.article_id and f.role = 'recheck' "
        "where v.article_id = ? order by version",
        [article_id],
    )
    assert [v[0] for v in versions][-1] == 2
    rechecks = monitoring.query(
        "select run_id, found_via, outcome from fetches where article_id = ? and role = 'recheck'",
        [article_id],
    )
    assert (2, "recheck", "changed") in rechecks  # run 2: nothing due, the API said "edited"
    assert "changed 1" in monitoring.runs[1].stdout


def test_punctuation_and_whitespace_edits_are_not_versions(monitoring):
    article_id, *_ = monitoring.article(RESTYLED)
    (count,) = monitoring.query(
        "select count(*) from article_versions where article_id = ?", [article_id]
    )[0]
    assert count == 1
    outcomes = {
        o
        for (o,) in monitoring.query(
            "select outcome from fetches where article_id = ? and role = 'recheck'", [article_id]
        )
    }
    assert "unchanged" in outcomes


def test_a_deleted_article_is_marked_removed_and_keeps_its_text(monitoring):
    article_id, title, text, removed_at, evidence, _ = monitoring.article(DELETED)
    assert removed_at and "HTTP 404" in evidence
    assert title and len(text) > 200  # the archived text stays
    (run_id,) = monitoring.query(
        "select run_id from fetches where article_id = ? and outcome = 'removed'", [article_id]
    )[0]
    assert run_id == 3  # found by RECHECK=all, not by the earlier run
    assert "removed 1" in monitoring.runs[2].stdout


def test_a_new_article_is_archived_in_the_next_crawl(monitoring):
    rows = monitoring.query("select run_id, title from articles where title like 'Chypre :%'")
    assert rows and rows[0][0] == 2


def test_an_unchanged_outlet_costs_a_fraction_of_the_first_crawl(monitoring):
    first, last = monitoring.query("select requests from runs where id in (1, 4) order by id")
    share = last[0] / first[0]
    assert share < 0.5, f"{last[0]} requests, {first[0]} the first time"
    printed = re.search(
        r"(\d+) requests = (\d+)% of the first crawl's (\d+)", monitoring.runs[3].stdout
    )
    assert printed and int(printed.group(3)) == first[0]
    assert "unchanged since the last crawl" in monitoring.runs[3].stdout


def test_rechecks_are_conditional(monitoring):
    outcomes = dict(
        monitoring.query(
            "select outcome, count(*) from fetches where run_id = 3 and role = 'recheck' "
            "group by outcome"
        )
    )
    # Articles re-checked in run 2 carry fresh validators: the outlet answers 304.
    assert outcomes.get("not-modified", 0) >= 2
    assert sum(outcomes.values()) == len(monitoring.articles)  # every archived article


def test_datasette_shows_versions_diffs_and_removals(monitoring):
    import subprocess
    import sys

    import httpx
    from conftest import ROOT, free_port, wait_for_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(monitoring.db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}/archive"
        edited_id, *_ = monitoring.article(EDITED)
        page = httpx.get(f"{base}/articles/{edited_id}").text
        assert "2 versions" in page and "<ins>" in page and "paraphé" in page
        removed = httpx.get(f"{base}/removed.json", params={"outlet": "", "_shape": "array"})
        rows = removed.json()
        deleted_id, *_ = monitoring.article(DELETED)
        assert [(r["id"], r["outlet"]) for r in rows] == [(deleted_id, "turquie-demain")]
        assert "HTTP 404" in rows[0]["removal_evidence"]
    finally:
        server.terminate()
        server.wait(timeout=10)
