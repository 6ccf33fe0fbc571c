"""Per-outlet extraction rules (seeds `drop` and `body`), on fixture pages and through a crawl."""

from __future__ import annotations

import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from conftest import run_crawl

from archive.extract import extract
from archive.ingest import prepare
from archive.page import RawPage
from archive.rules import ExtractionRules, RuleError, apply_rules, check_selector
from archive.seeds import SeedsError, load_seeds

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
PAGE = (FIXTURES / "rules-outlet.html").read_bytes()
URL = "https://lelevant.example/2024/03/12/le-port-de-mersin-bat-un-record/"

BODY_START = "Le port de Mersin, premier port à conteneurs"
BODY_END = "sur les terminaux existants."
SHARE = "Partager sur Facebook"
READ_ALSO = "Le corridor ferroviaire entre Mersin et Bagdad"
NOTICE = "réservés à la lecture personnelle"
SIDEBAR = "Les ports de la mer Noire se disputent"


def extracted(rules: ExtractionRules | None = None):
    return extract(PAGE, URL, "text/html; charset=utf-8", rules=rules)


def test_the_generic_extraction_keeps_what_the_rules_are_for():
    text = extracted().text
    assert BODY_START in text and BODY_END in text
    assert READ_ALSO in text and NOTICE in text and SIDEBAR in text


def test_drop_removes_the_parts_named():
    rules = ExtractionRules.of(drop=[".barre-partage", ".encadre-lire-aussi", "p.mention-abonnes"])
    text = extracted(rules).text
    assert BODY_START in text and BODY_END in text
    assert SHARE not in text and READ_ALSO not in text and NOTICE not in text


def test_body_narrows_the_page_to_the_article():
    result = extracted(ExtractionRules.of(body="div.texte-article"))
    assert BODY_START in result.text and BODY_END in result.text
    assert SIDEBAR not in result.text
    assert result.warnings == []


def test_drop_and_body_together_and_metadata_still_read_from_the_whole_page():
    rules = ExtractionRules.of(
        drop=[".encadre-lire-aussi", ".mention-abonnes"], body=".texte-article"
    )
    result = extracted(rules)
    assert READ_ALSO not in result.text and NOTICE not in result.text and SIDEBAR not in result.text
    assert result.title == "Le port de Mersin bat un record de conteneurs"
    assert result.published == "2024-03-12T08:15:00+03:00"
    assert result.authors == ["Deniz Korkmaz"]


def test_a_body_selector_that_matches_nothing_falls_back_and_warns():
    result = extracted(ExtractionRules.of(body="div.ancien-theme"))
    assert BODY_START in result.text
    assert any("matched nothing" in w for w in result.warnings)


def test_several_body_elements_are_kept_in_page_order():
    tree = lxml.html.fromstring(
        "<html><body><div class='a'><p>un</p></div><aside>pub</aside>"
        "<div class='a'><p>deux</p><div class='a'><p>trois</p></div></div></body></html>"
    )
    assert apply_rules(tree, ExtractionRules(body="div.a")) == []
    assert tree.find("body").text_content() == "undeuxtrois"


def test_a_body_selector_matching_the_whole_page_is_ignored():
    tree = lxml.html.fromstring("<html><body><p>texte</p></body></html>")
    warnings = apply_rules(tree, ExtractionRules(body="body"))
    assert warnings and "whole page" in warnings[0]
    assert tree.find("body").text_content() == "texte"


@pytest.mark.parametrize("selector", ["div[", "", "p:::x", "> p"])
def test_invalid_selectors_are_refused(selector):
    with pytest.raises(RuleError):
        check_selector(selector)


def test_no_rules_is_falsy_and_changes_nothing():
    assert not ExtractionRules()
    assert extracted(ExtractionRules()).text == extracted().text


# -- from the seeds file to the archive ------------------------------------------------------

SEEDS = """
[[outlet]]
slug = "le-levant"
name = "Le Levant"
homepage = "{home}"
language = "fr"
drop = [".encadre-lire-aussi", ".mention-abonnes"]
body = "div.texte-article"
"""


def test_seeds_rules_reach_the_extraction(tmp_path):
    seeds = tmp_path / "outlets.toml"
    seeds.write_text(SEEDS.format(home="https://lelevant.example/"), encoding="utf-8")
    (outlet,) = load_seeds(seeds)
    assert outlet.rules == ExtractionRules(
        drop=(".encadre-lire-aussi", ".mention-abonnes"), body="div.texte-article"
    )
    page = RawPage(
        url=URL,
        outlet="le-levant",
        role="article",
        fetched_at="2024-03-12T10:00:00+00:00",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=PAGE,
    )
    prepared = prepare(page, outlet)
    text = prepared.extracted.text
    assert BODY_START in text and READ_ALSO not in text and SIDEBAR not in text


def test_bad_selector_in_seeds_names_file_outlet_and_key(tmp_path):
    seeds = tmp_path / "outlets.toml"
    seeds.write_text(
        SEEDS.format(home="https://lelevant.example/").replace("div.texte-article", "div["),
        encoding="utf-8",
    )
    with pytest.raises(SeedsError) as error:
        load_seeds(seeds)
    message = str(error.value)
    assert str(seeds) in message and 'outlet "le-levant"' in message and '"body"' in message
    assert "CSS selector" in message


class LevantOutlet(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path == "/":
            body = f'<html><body><a href="{URL.split("example", 1)[1]}">Mersin</a></body></html>'
            data, status = body.encode(), 200
        elif self.path == URL.split("example", 1)[1]:
            data, status = PAGE, 200
        else:
            data, status = b"<html><body>introuvable</body></html>", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_crawl_applies_the_outlet_rules(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), LevantOutlet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        home = f"http://127.0.0.1:{server.server_address[1]}/"
        seeds = tmp_path / "outlets.toml"
        seeds.write_text(SEEDS.format(home=home), encoding="utf-8")
        db = tmp_path / "archive.db"
        result = run_crawl(seeds, db)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    (text,) = conn.execute("select text from articles").fetchone()
    conn.close()
    assert BODY_START in text and BODY_END in text
    assert READ_ALSO not in text and NOTICE not in text and SIDEBAR not in text


def test_the_shipped_seeds_rules_are_valid():
    outlets = load_seeds(Path(__file__).parent.parent / "seeds" / "outlets.toml")
    aa = next(o for o in outlets if o.slug == "aa-fr")
    assert aa.rules.drop
