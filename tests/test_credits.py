"""Agency credits: from bylines, trailing credit lines, datelines and JSON-LD; prose untouched."""

from __future__ import annotations

import pytest

from archive.credits import (
    agency_name,
    credit_agencies,
    dateline_agencies,
    split_byline,
    split_credit_lines,
)
from archive.extract import extract

PARAGRAPH = (
    "La Turquie et l’Azerbaïdjan ont signé mardi à Bakou un accord sur la livraison de gaz "
    "naturel pour les dix prochaines années, a annoncé le ministère turc de l’Énergie. "
) * 3
SECOND = (
    "Les volumes prévus doivent couvrir près d’un dixième de la consommation turque, "
    "selon les premières estimations publiées par les opérateurs du gazoduc transanatolien. "
) * 3


def article(paragraphs: str, head: str = "") -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta property="og:type" content="article">'
        '<meta property="og:site_name" content="Le Bosphore">'
        f"{head}</head><body><article><h1>Accord gazier</h1>{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("line", "agencies"),
    [
        ("AA", ["Anadolu"]),
        ("TRT FR", ["TRT"]),
        ("Avec AFP", ["AFP"]),
        ("(Reuters)", ["Reuters"]),
        ("— AFP", ["AFP"]),
        ("© AFP", ["AFP"]),
        ("AA / TRT FR", ["Anadolu", "TRT"]),
        ("Avec AFP et Reuters", ["AFP", "Reuters"]),
        ("Source : Xinhua", ["Xinhua"]),
        ("Kaynak: AA", ["Anadolu"]),
        ("dpa/AFP/jw", ["DPA", "AFP"]),
        ("(mit Material von AFP und dpa)", ["AFP", "DPA"]),
        ("Sputnik", ["Sputnik"]),
        ("(FRANCE 24 with AFP, REUTERS)", ["AFP", "Reuters"]),
        ("Le Monde avec AFP", ["AFP"]),
        ("Talks with the Reuters bureau chief", []),
        ("Associated Press", ["AP"]),
        ("MAP", ["MAP"]),
        ("Map", []),  # a word, not Maghreb Arabe Presse
        ("L'AFP rapporte que les négociations continuent.", []),
        ("Selon Reuters, la réunion a eu lieu mardi.", []),
        ("AP Photo", []),
    ],
)
def test_credit_lines(line, agencies):
    assert credit_agencies(line) == agencies


def test_only_bare_lines_at_the_edges_are_taken():
    lines = ["AA", "Selon l'agence Anadolu (AA), le sommet aura lieu en juin.", "TRT FR"]
    kept, credits = split_credit_lines(lines)
    assert kept == lines[1:2] and credits == ["Anadolu", "TRT"]


@pytest.mark.parametrize(
    ("name", "agency"),
    [
        ("Agence France-Presse", "AFP"),
        ("Anadolu Ajansı", "Anadolu"),
        ("l’Agence Anadolu", "Anadolu"),
        ("The Associated Press", "AP"),
        ("Jane Doe", None),
    ],
)
def test_agency_names_are_normalised(name, agency):
    assert agency_name(name) == agency


def test_bylines_separate_people_from_agencies():
    assert split_byline(["AFP"]) == ([], ["AFP"])
    assert split_byline(["Jane Doe (Reuters)", "John Roe"]) == (
        ["Jane Doe", "John Roe"],
        ["Reuters"],
    )
    assert split_byline(["AFP", "MANILA"]) == ([], ["AFP"])


def test_wire_datelines_credit_without_touching_the_text():
    assert dateline_agencies("ANKARA (AA) - Le président a reçu…") == ["Anadolu"]
    assert dateline_agencies("ISTANBUL, 14 mai (Reuters) — Les marchés…") == ["Reuters"]
    assert dateline_agencies("Le ministre (AA) a déclaré") == []


def test_trailing_credit_line_leaves_the_text():
    result = extract(
        article(f"<p>{PARAGRAPH}</p><p>{SECOND}</p><p>Avec AFP</p>"), "https://x.example/a/"
    )
    assert result.credits == ["AFP"]
    assert "Avec AFP" not in result.text
    assert PARAGRAPH.strip() in result.text and SECOND.strip() in result.text


def test_prose_that_mentions_an_agency_is_untouched():
    prose = "Selon l’agence Anadolu (AA), le sommet aura lieu en juin à Istanbul."
    result = extract(article(f"<p>{PARAGRAPH}</p><p>{prose}</p>"), "https://x.example/a/")
    assert result.credits == []
    assert prose in result.text


def test_agency_byline_becomes_a_credit_not_an_author():
    head = '<meta name="author" content="Par AFP">'
    result = extract(article(f"<p>{PARAGRAPH}</p><p>{SECOND}</p>", head), "https://x.example/a/")
    assert result.authors == [] and result.credits == ["AFP"]


def test_json_ld_agency_author_is_a_credit_and_people_stay_authors():
    jsonld = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Accord gazier",'
        '"author":[{"@type":"Person","name":"Selin Aydın"},'
        '{"@type":"Organization","name":"Anadolu Ajansı"}]}</script>'
    )
    result = extract(article(f"<p>{PARAGRAPH}</p><p>{SECOND}</p>", jsonld), "https://x.example/a/")
    assert result.authors == ["Selin Aydın"]
    assert result.credits == ["Anadolu"]


def test_a_wire_dateline_credits_the_agency_and_stays_in_the_text():
    opening = f"ANKARA (AA) - {PARAGRAPH}"
    result = extract(article(f"<p>{opening}</p><p>{SECOND}</p>"), "https://x.example/a/")
    assert result.credits == ["Anadolu"]
    assert result.text.startswith("ANKARA (AA) -")
