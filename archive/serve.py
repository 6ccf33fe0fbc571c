"""Start Datasette on an archive with the project's metadata, templates and plugins."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).parent / "datasette"

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


def metadata_for(db_path: Path) -> dict:
    """The metadata file, keyed by the database's name as Datasette will call it."""
    metadata = yaml.safe_load((HERE / "metadata.yml").read_text(encoding="utf-8"))
    name = db_path.stem
    databases = metadata.get("databases", {})
    if "archive" in databases and name != "archive":
        databases[name] = databases.pop("archive")
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


def serve(db: str, host: str = "127.0.0.1", port: int = 8001) -> int:
    db_path = Path(db)
    if not db_path.exists():
        print(f"error: no archive at {db} (run `make crawl` or `make demo` first)", file=sys.stderr)
        return 2
    meta_dir = Path(tempfile.mkdtemp(prefix="veille-datasette-"))
    metadata_file = meta_dir / "metadata.json"
    metadata_file.write_text(json.dumps(metadata_for(db_path), ensure_ascii=False))
    datasette = Path(sys.executable).with_name("datasette")
    args = datasette_args(db_path, host, port, metadata_file)
    print(f"Datasette: http://{host}:{port}/{db_path.stem}", flush=True)
    os.execv(str(datasette), [str(datasette), *args])
    return 0  # not reached
