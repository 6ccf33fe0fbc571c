"""Publish an archive with Datasette: the project's metadata, templates and plugins.

`python -m archive serve --db X --host H --port P` (what `make serve` and `make demo`
run) starts Datasette on one archive, read-only. `python -m archive.serve publish
--db X` (what `make publish` runs) stages the same files for `datasette package` /
`datasette publish` and prints the commands that deploy them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).parent / "datasette"
SEARCH_MODULE = Path(__file__).parent / "search.py"

# Datasette settings for a public, read-only archive: queries cannot run away,
# and facet suggestions (the slow part of a table page on a big archive) are off.
SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 1000,
    "suggest_facets": "off",
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
    "allow_download": "off",
}

# The plugins the published archive runs, pinned as in pyproject.toml. `datasette
# package` / `datasette publish` install exactly these in the image.
PLUGINS = {
    "datasette": "0.65.5",
    "datasette-atom": "0.9",
    "datasette-block-robots": "1.1.1",
    "datasette-dashboards": "0.8.0",
}

# Plugins that write to a database or its schema: the archive is published read-only,
# so `serve` refuses to start while one of them is installed.
WRITE_PLUGINS = {
    "datasette-write",
    "datasette-write-ui",
    "datasette-insert",
    "datasette-insert-api",
    "datasette-upload-csvs",
    "datasette-upload-dbs",
    "datasette-edit-schema",
    "datasette-edit-templates",
    "datasette-configure-fts",
    "datasette-import",
    "datasette-enrichments",
    "datasette-comments",
    "datasette-queries",
    "datasette-saved-queries",
    "datasette-create-view",
    "datasette-sqlite-debug-authorizer",
}

ROBOTS_ENV = "VEILLE_ALLOW_ROBOTS"
ALERTS_ENV = "VEILLE_ALERTS"


def robots_allowed() -> bool:
    return os.environ.get(ROBOTS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def alerts_file() -> Path | None:
    """The saved alerts to list on the home page: $VEILLE_ALERTS or seeds/alerts.toml."""
    path = Path(os.environ.get(ALERTS_ENV) or "seeds/alerts.toml")
    return path.resolve() if path.is_file() else None


def metadata_for(
    db_path: Path,
    allow_robots: bool | None = None,
    alerts: Path | None = None,
    warc: Path | None = None,
) -> dict:
    """The metadata file, keyed by the database's name as Datasette will call it."""
    metadata = yaml.safe_load((HERE / "metadata.yml").read_text(encoding="utf-8"))
    name = db_path.stem
    databases = metadata.get("databases", {})
    if "archive" in databases and name != "archive":
        databases[name] = databases.pop("archive")
    plugins = metadata.setdefault("plugins", {})
    # The charts name the database they query.
    for dashboard in (plugins.get("datasette-dashboards") or {}).values():
        for part in ("charts", "filters"):
            for item in (dashboard.get(part) or {}).values():
                if item.get("db") == "archive":
                    item["db"] = name
    if allow_robots if allow_robots is not None else robots_allowed():
        plugins["datasette-block-robots"] = {"literal": "User-agent: *\nAllow: /"}
    if alerts:
        plugins["veille"] = {"alerts": str(alerts)}
    if warc and warc.is_dir():
        plugins["veille-raw"] = {"warc": str(warc.resolve())}
    text = json.dumps(metadata, ensure_ascii=False).replace('"/archive/', f'"/{name}/')
    return json.loads(text.replace('href=\\"/archive/', f'href=\\"/{name}/'))


def datasette_args(db_path: Path, host: str, port: int, metadata_file: Path) -> list[str]:
    args = [
        "serve",
        str(db_path),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(metadata_file),
        "--plugins-dir",
        str(HERE / "plugins"),
    ]
    if (HERE / "templates").is_dir() and any((HERE / "templates").iterdir()):
        args += ["--template-dir", str(HERE / "templates")]
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value)]
    return args


def installed_write_plugins() -> list[str]:
    """Installed Datasette plugins (entry points of group "datasette") that can write."""
    found = set()
    for entry in importlib.metadata.entry_points(group="datasette"):
        dist = getattr(entry, "dist", None)
        name = (dist.metadata["Name"] if dist else entry.name).lower().replace("_", "-")
        if name in WRITE_PLUGINS:
            found.add(name)
    return sorted(found)


def serve(db: str, host: str = "127.0.0.1", port: int = 8001, warc: str | None = None) -> int:
    db_path = Path(db)
    if not db_path.exists():
        print(f"error: no archive at {db} (run `make crawl` or `make demo` first)", file=sys.stderr)
        return 2
    writers = installed_write_plugins()
    if writers:
        print(
            f"error: refusing to publish the archive with plugins that write: {', '.join(writers)}"
            " (uninstall them: the published archive is read-only)",
            file=sys.stderr,
        )
        return 2
    meta_dir = Path(tempfile.mkdtemp(prefix="veille-datasette-"))
    metadata_file = meta_dir / "metadata.json"
    metadata = metadata_for(db_path, alerts=alerts_file(), warc=Path(warc) if warc else None)
    metadata_file.write_text(json.dumps(metadata, ensure_ascii=False))
    datasette = Path(sys.executable).with_name("datasette")
    args = datasette_args(db_path, host, port, metadata_file)
    print(f"Datasette: http://{host}:{port}/{db_path.stem}", flush=True)
    os.execv(str(datasette), [str(datasette), *args])
    return 0  # not reached


# -- publishing elsewhere ---------------------------------------------------------


def snapshot(db_path: Path, target: Path) -> None:
    """A consistent copy of a live (WAL) archive in rollback-journal mode, safe to ship."""
    target.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()
        source.close()


def stage(db_path: Path, out_dir: Path, allow_robots: bool = False) -> dict[str, Path]:
    """Everything `datasette package` / `datasette publish` needs, in one folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = {
        "db": out_dir / db_path.name,
        "metadata": out_dir / "metadata.json",
        "plugins": out_dir / "plugins",
        "templates": out_dir / "templates",
    }
    snapshot(db_path, staged["db"])
    metadata = metadata_for(db_path, allow_robots=allow_robots)
    staged["metadata"].write_text(json.dumps(metadata, ensure_ascii=False, indent=2))
    for key in ("plugins", "templates"):
        shutil.rmtree(staged[key], ignore_errors=True)
        shutil.copytree(HERE / key, staged[key], ignore=shutil.ignore_patterns("__pycache__"))
    # The published image does not hold the veille package: the query syntax travels
    # beside the plugin that registers it (see plugins/veille_search.py), in a folder
    # of its own so that Datasette does not load it as a plugin.
    (staged["plugins"] / "veille_syntax").mkdir()
    shutil.copy(SEARCH_MODULE, staged["plugins"] / "veille_syntax" / "search.py")
    return staged


def publish_options(staged: dict[str, Path]) -> list[str]:
    extra = " ".join(f"--setting {name} {value}" for name, value in SETTINGS.items())
    options = [
        "--metadata",
        str(staged["metadata"]),
        "--plugins-dir",
        str(staged["plugins"]),
        "--template-dir",
        str(staged["templates"]),
        "--extra-options",
        extra,
    ]
    for name, version in PLUGINS.items():
        options += ["--install", f"{name}=={version}"]
    return options


def publish(db: str, out: str | None = None) -> int:
    db_path = Path(db)
    if not db_path.exists():
        print(f"error: no archive at {db} (run `make crawl` or `make demo` first)", file=sys.stderr)
        return 2
    out_dir = Path(out or Path("data") / "publish" / db_path.stem)
    staged = stage(db_path, out_dir, allow_robots=robots_allowed())
    name = f"veille-{db_path.stem}".lower()
    options = publish_options(staged)
    db_arg = str(staged["db"])
    package = ["datasette", "package", db_arg, "--tag", name, *options]
    cloudrun = ["datasette", "publish", "cloudrun", db_arg, "--service", name, *options]
    heroku = ["datasette", "publish", "heroku", db_arg, "--name", name, *options]
    robots = "allowed (VEILLE_ALLOW_ROBOTS set)" if robots_allowed() else "blocked"
    print(
        f"Staged {db_path} for publication in {out_dir}/ (a consistent snapshot of the\n"
        f"archive, the metadata, templates and plugins; search-engine crawlers {robots}).\n"
        "\n"
        "A Docker image (needs Docker), then run it:\n"
        f"  {shlex.join(package)}\n"
        f"  docker run -p 8001:8001 {name}\n"
        "\n"
        "Google Cloud Run (needs the gcloud CLI, logged in):\n"
        f"  {shlex.join(cloudrun)}\n"
        "\n"
        "Heroku (needs the heroku CLI, logged in):\n"
        f"  {shlex.join(heroku)}\n"
        "\n"
        "Other hosts: `datasette install datasette-publish-fly` (or -vercel), then\n"
        "`datasette publish fly ...` with the same options.\n"
        "The published copy is read-only and immutable; run `make publish` again after a\n"
        "crawl to ship the new articles. See docs/publishing.md."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.serve", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    served = commands.add_parser("serve", help="publish an archive with Datasette")
    served.add_argument("--db", default="data/archive.db")
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=int, default=8001)
    published = commands.add_parser("publish", help="stage an archive for datasette publish")
    published.add_argument("--db", default="data/archive.db")
    published.add_argument("--out", default=None, help="staging folder (data/publish/NAME)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.db, host=args.host, port=args.port)
    return publish(args.db, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
