"""Datasette plugin: the archive's query syntax and highlighted snippets."""

from __future__ import annotations

from datasette import hookimpl
from markupsafe import Markup, escape

from archive.search import fts_query


@hookimpl
def prepare_connection(conn):
    conn.create_function("veille_fts", 1, fts_query, deterministic=True)


@hookimpl
def render_cell(value, column):
    # Only the snippet's <mark> tags become markup; everything the article
    # itself contains stays escaped text.
    if column != "snippet" or not isinstance(value, str):
        return None
    escaped = str(escape(value))
    return Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))
