"""Titles without site names, clean author lists, the lead put back, boilerplate lines out."""

from __future__ import annotations

import pytest

from archive.boilerplate import clean_text, is_date_line, is_signature
from archive.extract import extract
from archive.metadata import clean_authors, host_labels, is_site_name, strip_site_name

P1 = (
    "Le ministre turc des Affaires étrangères a reçu mardi à Ankara son homologue "
    "azerbaïdjanais pour évoquer la reconstruction et les corridors de transport régionaux."
)
P2 = (
    "Les deux délégations ont évoqué une réunion « dans un esprit de travail » et la "
    "signature prochaine d’un accord sur la délimitation de la frontière commune."
)
P3 = (
    "Les observateurs notent que ce rapprochement intervient après des mois de tensions "
    "diplomatiques et plusieurs incidents frontaliers dans la région du Caucase du Sud."
)


def page(head: str = "", body: str = "", lang: str = "fr") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta property="og:type" content="article">'
        f"{head}</head><body>{body}</body></html>"
    )


def body(*parts: str) -> str:
    return "<article>" + "".join(parts) + f"<p>{P1}</p><p>{P2}</p><p>{P3}</p></article>"


# -- titles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "names", "labels", "expected"),
    [
        ("Accord signé | NTV Haber", ["NTV"], [], "Accord signé"),
        (
            "US, Manila launch war games - Taipei Times",
            [],
            ["taipeitimes"],
            "US, Manila launch war games",
        ),
        ("Gegenoffensive: Ziele | DW | 28.04.2023", ["DW.COM"], ["dw"], "Gegenoffensive: Ziele"),
        ("Tageblatt.lu | Sport | Skisprung-Zoff", ["Tageblatt.lu"], [], "Sport | Skisprung-Zoff"),
        ("EU und Indien - Landesspiegel", ["Landesspiegel"], [], "EU und Indien"),
        ("Haut-Karabakh : Bakou et Érevan", ["Le Bosphore"], [], "Haut-Karabakh : Bakou et Érevan"),
        ("Le - et la – ponctuation", ["Le Bosphore"], [], "Le - et la – ponctuation"),
        (
            "Yangınlarda son durum! - Güncel haberler",
            ["Habertürk"],
            [],
            "Yangınlarda son durum! - Güncel haberler",
        ),
    ],
)
def test_site_names_are_stripped_only_when_the_page_names_its_site(title, names, labels, expected):
    assert strip_site_name(title, names, labels) == expected


def test_another_candidate_settles_which_part_is_the_headline():
    title = "Drusen fordern Teilhabe - News - SRF"
    assert (
        strip_site_name(title, ["SRF"], [], ["Drusen fordern Teilhabe"])
        == "Drusen fordern Teilhabe"
    )


def test_site_name_matching():
    assert is_site_name("NTV Haber", ["NTV"])
    assert is_site_name("DW", ["DW.COM"])
    assert is_site_name("derStandard.at", [], ["derstandard"])
    assert not is_site_name("Trump", ["Trumpet News"])
    assert not is_site_name("Le", ["Le Bosphore"])
    assert host_labels("https://www.taipeitimes.com/News/1") == ["taipeitimes"]
    assert host_labels("https://news.orf.at/stories/1") == ["orf"]


def test_title_sources_in_order_and_site_suffix_removed():
    head = (
        '<meta property="og:site_name" content="Le Bosphore">'
        '<meta property="og:title" content="Accord gazier signé à Bakou – Le Bosphore">'
        "<title>Accord gazier signé à Bakou – Économie – Le Bosphore</title>"
    )
    result = extract(
        page(head, body("<h1>Accord gazier signé à Bakou</h1>")), "https://x.example/a/"
    )
    assert result.title == "Accord gazier signé à Bakou"


def test_json_ld_headline_wins_and_its_entities_are_decoded():
    head = (
        '<meta property="og:title" content="Autre titre | Le Bosphore">'
        '<script type="application/ld+json">{"@type":"NewsArticle",'
        '"headline":"Türkiye&#039;de orman yangınları"}</script>'
    )
    result = extract(page(head, body("<h1>Autre</h1>")), "https://x.example/a/")
    assert result.title == "Türkiye'de orman yangınları"


def test_a_truncated_json_ld_headline_is_completed_from_the_page():
    full = (
        "Le chef de la diplomatie turque reçoit à Ankara son homologue pour parler commerce "
        "et énergie"
    )
    cut = full[:70] + "…"
    head = (
        f'<script type="application/ld+json">{{"@type":"NewsArticle","headline":"{cut}"}}</script>'
        f'<meta property="og:title" content="{full}">'
    )
    assert extract(page(head, body()), "https://x.example/a/").title == full


# -- authors -------------------------------------------------------------------------------------


def test_authors_are_a_clean_list():
    assert clean_authors(["Par Marc Delorme et Elif Karaca"], "Le Bosphore") == [
        "Marc Delorme",
        "Elif Karaca",
    ]
    assert clean_authors(["By redaction@example.org", "Le Bosphore"], "Le Bosphore") == []
    assert clean_authors(["Martí Abad (Enviado especial)", "Jane Doe, Staff Writer"]) == [
        "Martí Abad",
        "Jane Doe",
    ]
    assert (
        clean_authors(["Rédaction", "red", "Mis à jour le 12 mai 2024", "Text by NEWS WIRES"]) == []
    )
    assert clean_authors(["Von: Bill MCCARTHY, Marisha GOLDHAMER"]) == [
        "Bill MCCARTHY",
        "Marisha GOLDHAMER",
    ]


def test_json_ld_people_with_given_and_family_names():
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Accord",'
        '"author":[{"@type":"Person","givenName":"Anna Giulia","familyName":"Fink"},'
        '{"@type":"Organization","name":"Le Bosphore"}],'
        '"publisher":{"@type":"Organization","name":"Le Bosphore"}}</script>'
    )
    assert extract(page(head, body()), "https://x.example/a/").authors == ["Anna Giulia Fink"]


def test_visible_byline_when_the_markup_names_nobody():
    byline = (
        '<h1>Accord</h1><div class="byline">Par <a rel="author" href="/a/">Elif Karaca</a></div>'
    )
    result = extract(page("", body(byline)), "https://x.example/a/")
    assert result.authors == ["Elif Karaca"]
    assert "Elif Karaca" not in result.text


def test_labelled_byline_without_markup():
    labelled = "<h1>Accord</h1><ul><li><strong>Autorin/Autor</strong> Roman Goncharenko</li></ul>"
    assert extract(page("", body(labelled)), "https://x.example/a/").authors == [
        "Roman Goncharenko"
    ]


def test_signature_on_the_last_line_is_an_author_only_when_the_markup_agrees():
    signed = (
        f"<article><h1>Accord</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p>"
        '<p style="text-align:right;"><strong>Lê Phương</strong></p></article>'
    )
    result = extract(page("", signed), "https://x.example/a/")
    assert result.authors == ["Lê Phương"] and "Lê Phương" not in result.text
    plain = signed.replace(
        '<p style="text-align:right;"><strong>Lê Phương</strong></p>', "<p>Lê Phương</p>"
    )
    result = extract(page("", plain), "https://x.example/a/")
    assert result.authors == [] and "Lê Phương" in result.text


# -- the text ------------------------------------------------------------------------------------


def test_title_byline_dateline_and_reading_time_above_the_body_go():
    text = "\n".join(
        [
            "Économie",
            "Accord gazier signé à Bakou",
            "Par Elif Karaca",
            "14 mai 2024 à 09:32 • Mis à jour le 15 mai 2024",
            "4 min de lecture",
            P1,
            P2,
        ]
    )
    cleaned, credits, signed = clean_text(
        text, titles=["Accord gazier signé à Bakou"], authors=["Elif Karaca"]
    )
    assert cleaned == f"{P1}\n{P2}"
    assert credits == [] and signed == ["Par Elif Karaca"]


def test_lines_within_and_below_the_body_go():
    text = "\n".join(
        [
            P1,
            "LIRE AUSSI : La Turquie et l’Arménie rouvrent leur frontière",
            "Photo : AFP",
            P2,
            "ALSO READ: Brace for very bad weather this weekend",
            "© 2024 Le Bosphore. Tous droits réservés.",
            P3,
            "Tags :",
            "- Diplomatie",
            "- Caucase",
        ]
    )
    cleaned, _credits, _signed = clean_text(text)
    assert cleaned == f"{P1}\n{P2}\n{P3}"


def test_prose_is_not_mistaken_for_boilerplate():
    prose = [
        "Lire aussi les conclusions du rapport permet de comprendre l’ampleur du problème, "
        "a estimé la rapporteure devant la commission parlementaire mardi soir.",
        "By the end of the week, both delegations are expected to sign the agreement in Baku.",
        "Le 14 mai 2024, le ministre est arrivé à Bakou avec une délégation de vingt personnes.",
    ]
    cleaned, _credits, _signed = clean_text("\n".join([P1, *prose, P2]))
    assert cleaned == "\n".join([P1, *prose, P2])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("20 Nisan 2026•Güncelleme: 20 Nisan 2026", True),
        ("- Veröffentlicht am 13. Mai 2026 um 15:44", True),
        ("17:41 JST, October 13, 2024", True),
        ("10.11.2025 17:59", True),
        ("Le 14 mai 2024, le ministre est arrivé à Bakou.", False),
    ],
)
def test_date_lines(line, expected):
    assert is_date_line(line.lstrip("- ")) is expected


def test_signatures():
    assert is_signature("Lê Phương") and is_signature("Sehernur Karsu")
    assert not is_signature("Son paragraphe.") and not is_signature("Ankara")


def test_the_lead_trafilatura_drops_is_put_back():
    lead = (
        "Bakou et Ankara ont signé un accord gazier de dix ans, le plus important de leur "
        "histoire commune."
    )
    head = f'<meta property="og:description" content="{lead}">'
    html = page(
        head,
        f'<header><h1>Accord gazier</h1><p class="chapo">{lead}</p></header>'
        f'<div class="entry-content"><p>{P1}</p><p>{P2}</p><p>{P3}</p></div>',
    )
    result = extract(html, "https://x.example/a/")
    assert result.text.startswith(lead)
    assert result.text.count(lead) == 1


def test_a_description_already_in_the_text_is_not_added_twice():
    head = f'<meta property="og:description" content="{P1}">'
    result = extract(page(head, body("<h1>Accord</h1>")), "https://x.example/a/")
    assert result.text.count(P1) == 1


def test_teaser_cards_and_related_blocks_are_not_text():
    teasers = "".join(
        f'<a href="/2024/05/{n:02d}/autre/"><h3>Autre titre {n}</h3><p>{P3} {n}</p></a>'
        for n in range(3)
    )
    related = (
        "<section><h2>À lire aussi</h2><ul>"
        '<li><a href="/x/">Un autre article sur le même sujet</a></li>'
        '<li><a href="/y/">Encore un autre article sur le sujet</a></li></ul></section>'
    )
    html = page("", f"<article><h1>Accord</h1><p>{P1}</p><p>{P2}</p>{related}</article>{teasers}")
    result = extract(html, "https://x.example/a/")
    assert P1 in result.text and P2 in result.text
    assert P3 not in result.text and "Un autre article" not in result.text


def test_an_unclosed_link_swallowing_the_text_is_not_a_teaser():
    # libxml2 nests the paragraphs after an unclosed <a> inside it.
    html = page(
        "", f'<article><h1>Accord</h1><p>Intro <a href="/x/">lien<p>{P1}</p><p>{P2}</p></article>'
    )
    result = extract(html, "https://x.example/a/")
    assert P1 in result.text and P2 in result.text
