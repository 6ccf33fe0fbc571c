"""The query syntax users type, checked against a real FTS5 table."""

from __future__ import annotations

import sqlite3

import pytest

from archive.search import fts_query
from archive.store import open_db

DOCS = {
    1: ("Haut-Karabakh", "Bakou et Érevan reprennent les négociations sur la frontière."),
    2: ("Gaz naturel", "Le gaz naturel azerbaïdjanais arrive en Turquie par le TANAP."),
    3: ("Football", "La Turquie bat la Géorgie au championnat d'Europe de football."),
    4: ("Négoce", "Les négociants en céréales saluent le corridor de la mer Noire."),
}


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("fts") / "a.db"
    db = open_db(path)
    db["outlets"].insert({"slug": "x", "name": "X", "homepage": "https://x.example/"})
    for id_, (title, text) in DOCS.items():
        db["articles"].insert(
            {
                "id": id_,
                "url": f"https://x.example/{id_}",
                "outlet": "x",
                "title": title,
                "text": text,
            }
        )
    db.conn.close()
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


def matches(conn, query: str) -> set[int]:
    rows = conn.execute(
        "select rowid from articles_fts where articles_fts match ?", [fts_query(query)]
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Erevan", {1}),
        ("érevan", {1}),
        ("Haut-Karabakh", {1}),
        ('"gaz naturel"', {2}),
        ('"naturel gaz"', set()),
        ("négoci*", {1, 4}),
        ("Turquie", {2, 3}),
        ("Turquie -football", {2}),
        ("Turquie NOT football", {2}),
        ("football OR Érevan", {1, 3}),
        ("Turquie AND gaz", {2}),
        ('"unbalanced', set()),
        ("AND OR", set()),
        ("(", set()),
        ("-", set()),
        ("l'Europe", set()),
        ("d'Europe", {3}),
    ],
)
def test_queries(conn, query, expected):
    assert matches(conn, query) == expected


def test_user_text_never_reaches_fts_unquoted():
    assert fts_query('a"b') == '"a" "b"'
    assert fts_query("x:y") == '"x:y"'
    assert fts_query("NEAR(x y)") == '"NEAR" "x" "y"'
