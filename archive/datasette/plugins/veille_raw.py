"""Datasette plugin: the archived raw copy of each article version, served safely.

The raw page is what the outlet sent, scripts included. It is served with a
Content-Security-Policy `sandbox` (no scripts, a unique origin: nothing it holds
can reach Datasette's pages or cookies), `nosniff`, and never as the archive's
own HTML; `?download=1` gives the WARC record itself as a file.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Response

SANDBOX = (
    "sandbox; default-src 'none'; img-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'none'; form-action 'none'; frame-ancestors 'none'"
)


def warc_root(datasette) -> str | None:
    config = datasette.plugin_config("veille-raw") or {}
    return config.get("warc")


async def archived_copy(datasette, request):
    database = request.url_vars["database"]
    article_id = int(request.url_vars["article_id"])
    version = int(request.url_vars["version"])
    root = warc_root(datasette)
    try:
        db = datasette.get_database(database)
    except KeyError:
        return Response.text("No such archive.", status=404)
    result = await db.execute(
        "select warc_file, warc_offset, warc_length from article_versions "
        "where article_id = ? and version = ?",
        [article_id, version],
    )
    row = result.first()
    if row is None or row["warc_file"] is None or not root:
        return Response.text("No archived copy of this version is kept here.", status=404)
    try:
        from archive.warc import WarcRef, read_record_bytes, read_response
    except ImportError:  # a published copy without the veille package
        return Response.text("Archived copies are not available here.", status=404)
    ref = WarcRef(row["warc_file"], row["warc_offset"], row["warc_length"] or 0)
    try:
        if request.args.get("download"):
            data = read_record_bytes(root, ref)
            name = f"article-{article_id}-v{version}.warc.gz"
            return Response(
                data,
                content_type="application/warc",
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "X-Content-Type-Options": "nosniff",
                },
            )
        page = read_response(root, ref).page
    except (OSError, StopIteration, ValueError):
        return Response.text("The archived copy could not be read.", status=404)
    content_type = page.header("content-type") or "text/html"
    return Response(
        page.body,
        content_type=content_type,
        headers={
            "Content-Security-Policy": SANDBOX,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "private, max-age=3600",
        },
    )


@hookimpl
def register_routes():
    return [
        (
            r"^/-/archived/(?P<database>[^/]+)/(?P<article_id>\d+)/(?P<version>\d+)$",
            archived_copy,
        )
    ]
