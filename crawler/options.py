"""Command-line options both crawl entry points share (`python -m crawler`, the worker)."""

from __future__ import annotations

import argparse

from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings


def add_scrapy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting, as with `scrapy crawl -s`",
    )
    parser.add_argument("-L", "--loglevel", default=None, help="log level (default INFO)")


def project_settings(args: argparse.Namespace) -> Settings:
    """The project's settings with the command line's -s and -L applied.

    ValueError names an assignment that is not NAME=VALUE.
    """
    settings = get_project_settings()
    for assignment in args.set:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise ValueError(f"-s expects NAME=VALUE, got {assignment!r}")
        settings.set(name.strip(), value, priority="cmdline")
    if args.loglevel:
        settings.set("LOG_LEVEL", args.loglevel.upper(), priority="cmdline")
    return settings
