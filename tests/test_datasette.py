"""The archive as users browse it: a real Datasette server over the demo crawl."""

from __future__ import annotations

import re

import httpx


def test_table_search_finds_accented_word_without_accent(datasette_url):
    response = httpx.get(
        f"{datasette_url}/demo/articles.json",
        params={"_search": "Erevan", "_shape": "array", "_col": "title"},
    )
    response.raise_for_status()
    titles = [row["title"] for row in response.json()]
    assert titles and any("Érevan" in title for title in titles)


def test_canned_search_query_returns_highlighted_snippets(datasette_url):
    response = httpx.get(
        f"{datasette_url}/demo/search.json", params={"q": "Haut-Karabakh", "_shape": "array"}
    )
    response.raise_for_status()
    rows = response.json()
    assert rows
    assert set(rows[0]) == {"outlet", "date", "title", "url", "snippet"}
    assert "<mark>Haut-Karabakh</mark>" in rows[0]["snippet"]


def test_search_page_renders_marks_as_html_and_escapes_the_rest(datasette_url):
    html = httpx.get(f"{datasette_url}/demo/search", params={"q": "Karabakh"}).text
    cells = re.findall(r'<td class="col-snippet[^"]*">(.*?)</td>', html, flags=re.S)
    assert cells and all("<mark>Karabakh</mark>" in cell for cell in cells)
    assert not any("&lt;mark" in cell for cell in cells)


def test_query_syntax_errors_are_not_sql_errors(datasette_url):
    for query in ['"unbalanced', "AND OR", "-", "négoci*", "Turquie -football"]:
        response = httpx.get(f"{datasette_url}/demo/search.json", params={"q": query})
        assert response.status_code == 200, (query, response.text[:200])


def test_articles_table_has_metadata_facets_and_newest_first(datasette_url):
    data = httpx.get(f"{datasette_url}/demo/articles.json", params={"_size": 5}).json()
    facets = set(data["facet_results"]) if isinstance(data["facet_results"], dict) else set()
    assert {"outlet", "language", "published_month"} <= facets
    published = [row[data["columns"].index("published")] for row in data["rows"]]
    assert published == sorted(published, reverse=True)
    html = httpx.get(f"{datasette_url}/demo/articles").text
    assert "One row per article" in html


def sql(datasette_url: str, statement: str) -> httpx.Response:
    return httpx.get(f"{datasette_url}/demo.json", params={"sql": statement, "_shape": "array"})


def test_published_archive_is_read_only(datasette_url):
    before = sql(datasette_url, "select count(*) as n from articles").json()[0]["n"]
    for statement in [
        "delete from articles",
        "drop table articles",
        "update articles set title = 'x'",
    ]:
        assert sql(datasette_url, statement).status_code == 400
    assert httpx.post(f"{datasette_url}/demo/articles/-/insert", json={"row": {}}).status_code in (
        403,
        404,
        405,
    )
    after = sql(datasette_url, "select count(*) as n from articles").json()[0]["n"]
    assert before == after > 0
