"""Outlet health (archive/health.py): the `outlet_health` view, read by
`python -m archive health`, Datasette's `health` query and home page.

An outlet whose server stopped (the demo scenario) shows as down; "silent" is
computed on crafted archives, with dates relative to now.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fixtures.demo_outlet.scenario import cli, monitoring_scenario

from archive.health import outlet_health
from archive.store import open_db


@pytest.fixture(scope="session")
def scenario(tmp_path_factory, demo_site, request):
    return monitoring_scenario(tmp_path_factory, demo_site, request)


def by_outlet(rows: list[dict]) -> dict[str, dict]:
    return {row["outlet"]: row for row in rows}


# -- a stopped outlet ----------------------------------------------------------------


def test_an_outlet_whose_server_stopped_is_down(scenario):
    assert "outlet echo-anatolie: homepage" in scenario.crawls[1].stdout
    rows = by_outlet(outlet_health(scenario.db))
    echo, turquie = rows["echo-anatolie"], rows["turquie-demain"]
    assert (echo["status"], echo["reason"]) == ("down", "unreachable in the last crawl")
    assert echo["error_rate"] == 1.0 and echo["failed"] == echo["fetches"] > 0
    # It last answered during the first crawl, before its last (failed) one.
    assert echo["last_success"] < echo["last_crawl"]
    assert turquie["status"] == "ok" and turquie["error_rate"] == 0.0
    assert turquie["last_success"] >= echo["last_crawl"][:10]
    # Demo articles are from 2024, except the one published during the scenario.
    assert (turquie["articles_24h"], turquie["articles_7d"]) == (1, 1)
    assert (echo["articles_24h"], echo["articles_7d"], echo["silent"]) == (0, 0, 0)


def test_health_command_prints_every_outlet(scenario):
    done = cli("health", "--db", str(scenario.db))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["outlet", "status"]
    echo = next(line for line in lines if line.startswith("echo-anatolie"))
    assert echo.split()[1] == "down" and echo.endswith("unreachable in the last crawl")
    assert "100%" in echo
    assert "2 outlets, 1 needing attention: echo-anatolie" in lines[-1]


def test_health_in_datasette_query_and_home_page(scenario):
    base = f"{scenario.datasette_url}/{scenario.database}"
    rows = httpx.get(f"{base}/health.json", params={"_shape": "array"}).json()
    assert [(row["outlet"], row["status"]) for row in rows] == [
        ("echo-anatolie", "down"),  # problems first
        ("turquie-demain", "ok"),
    ]
    view = httpx.get(f"{base}/outlet_health.json", params={"_shape": "array"}).json()
    assert {row["outlet"] for row in view} == {"echo-anatolie", "turquie-demain"}
    home = httpx.get(base).text
    assert 'veille-health-down">down<' in home and 'veille-health-ok">ok<' in home


# -- silent outlets, on a crafted archive ----------------------------------------------

NOW = datetime.now(UTC)


def iso(days_ago: float, offset_hours: int = 3) -> str:
    """A publication time `days_ago` days before now, written with the outlet's offset."""
    local = (NOW - timedelta(days=days_ago)).astimezone(timezone(timedelta(hours=offset_hours)))
    return local.isoformat(timespec="seconds")


def crafted_archive(path: Path) -> Path:
    """Outlets publishing on chosen days, each crawled once a minute ago without error
    (except "redesigned", whose article pages no longer give articles)."""
    days = {
        "daily": [0.2, 1.2, 2.2, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5],
        "stopped": [3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5],  # daily, then nothing for 3 days
        "five-of-seven": [3.5, 4.5, 6.5, 8.5, 9.5],  # the least that counts as daily
        "four-of-seven": [3.5, 5.5, 7.5, 9.5],  # not daily: a quiet spell is normal
        "weekly": [2.5, 9.5],
        "redesigned": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5],
    }
    db = open_db(path)
    crawled = (NOW - timedelta(minutes=1)).isoformat(timespec="seconds")
    db["runs"].insert(
        {"id": 1, "kind": "crawl", "started": crawled, "finished": crawled, "status": "finished"}
    )
    number = 0
    for outlet, ages in days.items():
        db["outlets"].insert({"slug": outlet, "name": outlet.title()})
        db["fetches"].insert(
            {
                "run_id": 1,
                "url": f"http://{outlet}.test/",
                "outlet": outlet,
                "role": "homepage",
                "status": 200,
                "fetched_at": crawled,
                "outcome": "recorded",
            }
        )
        for age in ages:
            number += 1
            db["articles"].insert(
                {
                    "url": f"http://{outlet}.test/{number}",
                    "outlet": outlet,
                    "title": f"{outlet} {number}",
                    "text": "…",
                    "published": iso(age),
                    "first_seen": crawled,
                }
            )
    for page in range(4):
        db["fetches"].insert(
            {
                "run_id": 1,
                "url": f"http://redesigned.test/new/{page}",
                "outlet": "redesigned",
                "role": "article",
                "status": 200,
                "fetched_at": crawled,
                "outcome": "not-article" if page else "archived",
            }
        )
    db.conn.close()
    return path


def test_silent_outlets(tmp_path):
    rows = by_outlet(outlet_health(crafted_archive(tmp_path / "crafted.db")))
    status = {outlet: row["status"] for outlet, row in rows.items()}
    assert status == {
        "daily": "ok",
        "stopped": "silent",
        "five-of-seven": "silent",
        "four-of-seven": "ok",
        "weekly": "ok",
        "redesigned": "silent",
    }
    assert rows["stopped"]["reason"] == (
        "published on 7 of the 7 days before, nothing in the last 3 days"
    )
    assert rows["stopped"]["silent"] == 1 and rows["four-of-seven"]["silent"] == 0
    assert rows["redesigned"]["reason"] == (
        "3 of 4 article pages gave no article in the last crawl (a change of layout?)"
    )
    assert (rows["daily"]["articles_24h"], rows["daily"]["articles_7d"]) == (1, 7)
    assert rows["daily"]["active_days"] == 7


def test_an_archive_without_the_view_is_read_alike(tmp_path):
    path = crafted_archive(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    conn.execute("drop view outlet_health")
    conn.commit()
    conn.close()
    rows = by_outlet(outlet_health(path))
    assert rows["stopped"]["status"] == "silent"


def test_a_never_crawled_outlet_is_unknown(tmp_path):
    db = open_db(tmp_path / "new.db")
    db["outlets"].insert({"slug": "new", "name": "New"})
    db.conn.close()
    (row,) = outlet_health(tmp_path / "new.db")
    assert (row["status"], row["reason"], row["last_crawl"]) == ("unknown", "never crawled", None)
