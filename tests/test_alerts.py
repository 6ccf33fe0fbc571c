"""Saved alerts (archive/alerts.py, seeds/alerts.toml): what `make alerts` prints over
two runs of the demo scenario, the alerts' Atom feeds in Datasette, and the checks of
the alerts file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from fixtures.demo_outlet.scenario import cli, monitoring_scenario

from archive.alerts import Alert, AlertsError, feed_path, load_alerts
from archive.datasette.plugins import veille_pages

ROOT = Path(__file__).resolve().parent.parent
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="session")
def scenario(tmp_path_factory, demo_site, request):
    return monitoring_scenario(tmp_path_factory, demo_site, request)


def sections(output: str) -> dict[str, str]:
    """The report split by alert: name → its lines."""
    found: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        if line and not line.startswith(" ") and " — " in line:
            name = line.split(" — ")[0]
            found[name] = line + "\n"
        elif name and line.startswith(" "):
            found[name] += line + "\n"
    return found


def titles(section: str) -> list[str]:
    return re.findall(r"^\s+\d+\. (.+)$", section, flags=re.M)


# -- two runs, a new article in between ----------------------------------------------


def test_first_run_reports_every_match_grouped_by_alert(scenario):
    first = scenario.alert_runs[0]
    assert first.returncode == 0, first.stderr
    found = sections(first.stdout)
    assert list(found) == ["Chypre", "Karabakh (Écho)", "Gaza"]
    assert "(first run: every match counts as new)" in found["Chypre"]
    assert titles(found["Chypre"]) == [
        "Chypre : l’envoyée de l’ONU reprend ses consultations sur l’île divisée"
    ]
    # outlet, date, URL and a snippet with the matching words marked.
    assert re.search(
        r"echo-anatolie · 2024-02-12 · http://127\.0\.0\.1:\d+/2024/02/12/chypre-", found["Chypre"]
    )
    assert "**chypriote**" in found["Chypre"]
    # Limited to one outlet: the original on Turquie Demain is left out.
    assert [
        line.split(" · ")[0].strip()
        for line in found["Karabakh (Écho)"].splitlines()
        if " · " in line
    ] == ["echo-anatolie"]
    # Limited to two outlets: all five Gaza articles of the demo, newest first.
    assert len(titles(found["Gaza"])) == 5
    assert first.stdout.rstrip().endswith(
        "3 alerts, 7 new matches: Chypre 1, Karabakh (Écho) 1, Gaza 5"
    )


def test_second_run_reports_only_what_is_new(scenario):
    second = scenario.alert_runs[1]
    assert second.returncode == 0, second.stderr
    found = sections(second.stdout)
    assert titles(found["Chypre"]) == [scenario.new_article["title"]]
    assert re.search(
        r"Chypre — .*: 1 new match since \d{4}-\d\d-\d\d \d\d:\d\d UTC", found["Chypre"]
    )
    assert "turquie-demain · " + scenario.new_article["published"][:10] in found["Chypre"]
    assert "nothing new since" in found["Karabakh (Écho)"]
    assert "nothing new since" in found["Gaza"] and not titles(found["Gaza"])
    assert second.stdout.rstrip().endswith("3 alerts, 1 new match: Chypre 1")


def test_a_dry_run_records_nothing(scenario, tmp_path):
    args = ("alerts", "--db", str(scenario.db), "--alerts", str(scenario.alerts))
    dry = cli(*args, "--dry-run")
    assert "3 alerts, 0 new matches" in dry.stdout
    assert "(dry run" in dry.stdout
    changed = tmp_path / "alerts.toml"
    changed.write_text('[[alert]]\nname = "Chypre"\nquery = "Chypre"\n', encoding="utf-8")
    restarted = cli("alerts", "--db", str(scenario.db), "--alerts", str(changed), "--dry-run")
    # A changed query starts afresh: both Cyprus articles count as new again.
    assert "2 new matches (query or outlets changed" in restarted.stdout


def test_each_alert_links_to_its_atom_feed(scenario):
    output = scenario.alert_runs[0].stdout
    expected = [feed_path(alert, scenario.database) for alert in load_alerts(scenario.alerts)]
    printed = re.findall(r"Atom feed: http://127\.0\.0\.1:8001(\S+)", output)
    assert printed == expected
    assert expected[2].startswith(f"/{scenario.database}/alert_feed.atom?q=Gaza&outlets=")
    home = httpx.get(f"{scenario.datasette_url}/{scenario.database}").text
    for path in expected:
        assert f'href="{path.replace("&", "&amp;")}"' in home


def test_alert_feeds_are_valid_atom_with_the_matches(scenario):
    base = scenario.datasette_url
    alerts = load_alerts(scenario.alerts)
    expected = {
        "Chypre": {
            row[0]
            for row in scenario.query(
                "select url from articles where title like '%Chypre%' or text like '%chypriote%'"
            )
        },
        "Karabakh (Écho)": {
            row[0]
            for row in scenario.query(
                "select url from articles where outlet = 'echo-anatolie' and text like '%Karabakh%'"
            )
        },
        "Gaza": {
            row[0] for row in scenario.query("select url from articles where text like '%Gaza%'")
        },
    }
    for alert in alerts:
        response = httpx.get(base + feed_path(alert, scenario.database))
        assert response.status_code == 200, alert.name
        assert response.headers["content-type"].startswith("application/xml")
        feed = ET.fromstring(response.content)
        assert feed.tag == f"{ATOM}feed"
        entries = feed.findall(f"{ATOM}entry")
        assert {e.findtext(f"{ATOM}id") for e in entries} == expected[alert.name], alert.name
        for entry in entries:
            assert entry.findtext(f"{ATOM}title")
            assert entry.findtext(f"{ATOM}updated")
            assert entry.find(f"{ATOM}link").get("href").startswith("http://127.0.0.1:")
    assert len(expected["Gaza"]) == 5 and len(expected["Karabakh (Écho)"]) == 1


def test_several_outlets_filter_the_search_page_too(scenario):
    base = f"{scenario.datasette_url}/{scenario.database}"
    rows = httpx.get(
        f"{base}/alert.json",
        params={"q": "Karabakh", "outlets": "echo-anatolie,nowhere", "_shape": "array"},
    ).json()
    assert [row["outlet"] for row in rows] == ["echo-anatolie"]
    both = httpx.get(
        f"{base}/alert.json",
        params={"q": "Karabakh", "outlets": "echo-anatolie, turquie-demain", "_shape": "array"},
    ).json()
    assert len(both) == 2 and "<mark>Karabakh</mark>" in both[0]["snippet"]


# -- the alerts file -----------------------------------------------------------------


def test_the_shipped_alerts_file_is_valid_and_read_alike_by_datasette():
    alerts = load_alerts(ROOT / "seeds" / "alerts.toml")
    names = {alert.name for alert in alerts}
    assert {"Haut-Karabakh", "Chypre", "PKK", "Gaza"} <= names
    assert any(len(alert.outlets) > 1 for alert in alerts)
    published = veille_pages.load_alerts(str(ROOT / "seeds" / "alerts.toml"))
    assert [(a["name"], a["query"], tuple(a["outlets"])) for a in published] == [
        (a.name, a.query, a.outlets) for a in alerts
    ]
    done = cli("alerts", "--check")
    assert done.returncode == 0 and "Chypre: Chypre OR" in done.stdout


def test_outlet_alone_is_accepted(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text('[[alert]]\nname = "A"\nquery = "Ankara"\noutlet = "aa-fr"\n', "utf-8")
    assert load_alerts(path) == [Alert("A", "Ankara", ("aa-fr",))]
    assert veille_pages.load_alerts(str(path))[0]["outlets"] == ["aa-fr"]
    links = veille_pages.alert_links("/demo", veille_pages.load_alerts(str(path))[0])
    assert links["feed_url"] == "/demo/feed.atom?q=Ankara&outlet=aa-fr"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[alert]]\nname = "Gaza"\nquery = "Gaza"\noutlet_s = ["rfi"]\n',
            'alerts.toml:4: alert "Gaza": unknown key "outlet_s"; did you mean "outlets"?',
        ),
        ('[[alert]]\nname = "Gaza"\n', 'alerts.toml:1: alert "Gaza": missing required key "query"'),
        (
            '[[alert]]\nname = "Gaza"\nquery = "Gaza"\noutlets = "rfi"\n',
            'alerts.toml:4: alert "Gaza": bad value for "outlets": expected a list '
            '(write outlets = ["rfi"])',
        ),
        (
            '[[alert]]\nname = "Gaza"\nquery = "-"\n',
            'alerts.toml:3: alert "Gaza": bad value for "query": "-" has no word to search for',
        ),
        (
            '[[alert]]\nname = "A"\nquery = "x"\n\n[[alert]]\nname = "A"\nquery = "y"\n',
            'alerts.toml:6: alert "A": duplicate name (already used by alert #1)',
        ),
        (
            '[[alert]]\nname = "A"\nquery = "x"\noutlets = ["RFI"]\n',
            'alerts.toml:4: alert "A": bad value for "outlets": "RFI" is not an outlet slug',
        ),
        ('[[alerts]]\nname = "A"\n', 'alerts.toml:1: unknown top-level key "alerts"'),
        ('[[alert]\nname = "A"\n', "alerts.toml:1: invalid TOML"),
        ("", "alerts.toml: no alerts defined"),
    ],
)
def test_mistakes_name_the_file_line_alert_and_key(tmp_path, text, message):
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AlertsError) as error:
        load_alerts(path)
    assert message in str(error.value)
    done = cli("alerts", "--alerts", str(path), "--check") if "outlet_s" in text else None
    if done is not None:
        assert done.returncode == 2 and done.stderr.startswith("error: ")
