"""Datasette's permission checks, answered once per request, still protect what the
metadata makes private: whatever a URL calls a table, and from one request to the next."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from datasette.app import Datasette

from archive import serve


def published(db, metadata: dict) -> Datasette:
    """The archive as `archive serve` publishes it, in this process."""
    return Datasette(
        [str(db)],
        metadata=metadata,
        plugins_dir=str(serve.HERE / "plugins"),
        template_dir=str(serve.HERE / "templates"),
    )


@pytest.fixture(scope="module")
def private_fetches(demo_crawl):
    metadata = serve.metadata_for(demo_crawl.db)
    metadata["databases"]["demo"].setdefault("tables", {})["fetches"] = {"allow": False}
    return published(demo_crawl.db, metadata)


def statuses(datasette: Datasette, paths: list[str]) -> list[int]:
    async def fetch():
        await datasette.invoke_startup()
        return [(await datasette.client.get(path)).status_code for path in paths]

    return asyncio.run(fetch())


def test_a_private_table_stays_private_under_any_spelling(private_fetches):
    private = ["/demo/fetches", "/demo/FETCHES", "/demo/Fetches.json", "/demo/fetches/1"]
    public = ["/demo/articles", "/demo/runs.json", "/demo/articles/1"]
    # Twice: answers kept by one request must not leak into the next.
    found = statuses(private_fetches, (private + public) * 2)
    refused = [status in (403, 404) for status in found]
    assert refused == ([True] * len(private) + [False] * len(public)) * 2, found
    assert found[0] == 403 and 200 in found


def test_the_home_page_lists_what_may_be_seen_and_asks_each_question_once(private_fetches):
    async def home():
        await private_fetches.invoke_startup()
        private_fetches._permission_checks.clear()
        response = await private_fetches.client.get("/demo")
        return response, list(private_fetches._permission_checks)

    response, checks = asyncio.run(home())
    assert response.status_code == 200
    # Datasette's list of tables, below the outlets.
    assert '<h3><a href="/demo/articles">articles</a>' in response.text
    assert '<h3><a href="/demo/fetches">' not in response.text
    tables = Counter(
        (repr(check["actor"]), repr(check["resource"]))
        for check in checks
        if check["action"] == "view-table"
    )
    assert len(tables) >= 10
    assert max(tables.values()) == 1, tables.most_common(3)
