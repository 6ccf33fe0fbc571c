"""Outlets file loading and validation."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from archive.seeds import KNOWN_KEYS, Outlet, SeedsError, load_seeds, outlet_for_url, select_outlets

SEEDS = Path(__file__).resolve().parent.parent / "seeds" / "outlets.toml"

ONE = """\
[[outlet]]
slug = "one"
name = "One"
homepage = "http://127.0.0.1:8765/"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(SeedsError) as info:
        load_seeds(path)
    return str(info.value)


# --- the real outlets file -------------------------------------------------------------


@pytest.fixture(scope="module")
def outlets() -> list[Outlet]:
    return load_seeds(SEEDS)


def test_real_file_loads(outlets: list[Outlet]) -> None:
    slugs = [outlet.slug for outlet in outlets]
    assert len(slugs) >= 5
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9-]+", slug) for slug in slugs)
    assert {"turquie2023", "trt-francais", "aa-fr"} <= set(slugs)
    assert all(outlet.language == "fr" for outlet in outlets)


def test_real_file_trt_has_both_domains(outlets: list[Outlet]) -> None:
    (trt,) = select_outlets(outlets, "trt-francais")
    assert trt.homepage == "https://www.trt.global/français/"
    assert set(trt.all_domains) == {"trt.global", "trtfrancais.com"}
    assert trt.owns("https://www.trt.global/français/article/x")
    assert trt.owns("https://www.trtfrancais.com/actualites/x")
    assert trt.owns("https://trtfrancais.com/")


@pytest.mark.parametrize(
    "url",
    [
        "https://www.trt.global/français/article/turquie-elections",
        "https://www.trt.global/fran%C3%A7ais/article/turquie-elections",
        "https://www.trt.global/fran%c3%a7ais/article/turquie-elections",
        "https://www.trtfrancais.com/actualites/turquie-elections-123",
    ],
)
def test_real_file_trt_article_pattern_matches_french(outlets: list[Outlet], url: str) -> None:
    (trt,) = select_outlets(outlets, "trt-francais")
    assert trt.article_pattern is not None
    assert trt.article_pattern.search(url)
    assert not trt.excluded(url)
    assert outlet_for_url(outlets, url) is trt


@pytest.mark.parametrize(
    "url",
    ["https://www.trt.global/world/article/turkiye-elections", "https://www.trt.global/deutsch/x"],
)
def test_real_file_trt_other_languages_are_not_articles(outlets: list[Outlet], url: str) -> None:
    (trt,) = select_outlets(outlets, "trt-francais")
    assert trt.article_pattern is not None
    assert not trt.article_pattern.search(url)
    assert trt.excluded(url)


def test_real_file_sitemaps_on_shared_hosts_stay_fetchable(outlets: list[Outlet]) -> None:
    (trt,) = select_outlets(outlets, "trt-francais")
    (aa,) = select_outlets(outlets, "aa-fr")
    assert not trt.excluded("https://www.trt.global/sitemap.xml")
    assert not aa.excluded("https://www.aa.com.tr/robots.txt")
    assert aa.excluded("https://www.aa.com.tr/en/world/x/123")
    assert aa.article_pattern is not None
    assert aa.article_pattern.search("https://www.aa.com.tr/fr/monde/x/123")


def test_real_file_owned_domains_do_not_overlap(outlets: list[Outlet]) -> None:
    for outlet in outlets:
        url = outlet.homepage
        assert outlet_for_url(outlets, url) is outlet, url


# --- valid files -----------------------------------------------------------------------


def test_minimal_outlet_defaults(tmp_path: Path) -> None:
    (outlet,) = load_seeds(write(tmp_path, ONE))
    assert outlet == Outlet(
        slug="one",
        name="One",
        homepage="http://127.0.0.1:8765/",
        language=None,
        country=None,
        feeds=(),
        sitemaps=(),
        domains=(),
        article_pattern=None,
        exclude=(),
    )
    assert outlet.all_domains == ("127.0.0.1",)
    assert outlet.owns("http://127.0.0.1:8765/a")
    assert not outlet.owns("http://127.0.0.2:8765/a")


def test_full_outlet(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[outlet]]
        slug = "ex"
        name = "Example"
        homepage = "https://www.Example.com/fr/"
        language = "fr"
        country = "FR"
        feeds = ["https://www.example.com/rss.xml"]
        sitemaps = [
            "https://www.example.com/sitemap.xml",
        ]
        domains = ["Example.org", "www.example.org", "example.com"]
        article_pattern = '/\\d{4}/'
        exclude = ['/video/', '/live']
        """,
    )
    (outlet,) = load_seeds(path)
    assert outlet.language == "fr" and outlet.country == "FR"
    assert outlet.feeds == ("https://www.example.com/rss.xml",)
    assert outlet.sitemaps == ("https://www.example.com/sitemap.xml",)
    assert outlet.domains == ("example.org", "www.example.org", "example.com")
    assert outlet.all_domains == ("example.com", "example.org")
    assert outlet.owns("https://news.example.org/a")
    assert not outlet.owns("https://notexample.org/a")
    assert outlet.article_pattern is not None
    assert outlet.article_pattern.search("https://example.com/2024/x")
    assert outlet.excluded("https://example.com/video/x")
    assert not outlet.excluded("https://example.com/2024/x")


def test_idn_homepage_and_non_ascii_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[outlet]]
        slug = "idn"
        name = "IDN"
        homepage = "https://www.exämple.fr/français/"
        """,
    )
    (outlet,) = load_seeds(path)
    assert outlet.all_domains == ("xn--exmple-cua.fr",)
    assert outlet.owns("https://exämple.fr/x")
    assert outlet.owns("https://www.xn--exmple-cua.fr/x")


def test_outlet_for_url_prefers_specific_domain_and_matching_pattern(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[outlet]]
        slug = "main"
        name = "Main"
        homepage = "https://example.com/"
        article_pattern = '/fr/'

        [[outlet]]
        slug = "sub"
        name = "Sub"
        homepage = "https://sub.example.com/"

        [[outlet]]
        slug = "other-lang"
        name = "Other language"
        homepage = "https://example.com/de/"
        article_pattern = '/de/'
        """,
    )
    outlets = load_seeds(path)
    by_slug = {outlet.slug: outlet for outlet in outlets}
    assert outlet_for_url(outlets, "https://example.com/fr/a") is by_slug["main"]
    assert outlet_for_url(outlets, "https://example.com/de/a") is by_slug["other-lang"]
    assert outlet_for_url(outlets, "https://sub.example.com/fr/a") is by_slug["sub"]
    assert outlet_for_url(outlets, "https://example.net/fr/a") is None
    assert outlet_for_url(outlets, "mailto:a@example.com") is None


# --- select_outlets --------------------------------------------------------------------


def test_select_outlets(outlets: list[Outlet]) -> None:
    assert select_outlets(outlets, None) == outlets
    assert select_outlets(outlets, "") == outlets
    assert [o.slug for o in select_outlets(outlets, "aa-fr")] == ["aa-fr"]


def test_select_unknown_outlet_lists_known_ones(outlets: list[Outlet]) -> None:
    with pytest.raises(SeedsError) as info:
        select_outlets(outlets, "nope")
    known = ", ".join(sorted(o.slug for o in outlets))
    assert str(info.value) == f'unknown outlet "nope"; known outlets: {known}'


def test_select_unknown_outlet_suggests_close_slug(outlets: list[Outlet]) -> None:
    with pytest.raises(SeedsError, match='did you mean "trt-francais"'):
        select_outlets(outlets, "trt-francias")


# --- errors ----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert load_error(path) == f"seeds file not found: {path}"


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + 'language = "fr\n')
    message = load_error(path)
    assert message.startswith(f"{path}:5: invalid TOML: ")
    assert "column" in message


def test_invalid_toml_at_end_of_document(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + "feeds = [\n")
    assert load_error(path).startswith(f"{path}:5: invalid TOML: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "outlets.toml"
    path.write_bytes(ONE.replace("One", "\xe9").encode("latin-1"))
    assert load_error(path).startswith(f"{path}: not valid UTF-8")


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "outlet = []\n"])
def test_no_outlets(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}: no outlets defined (add an [[outlet]] table)"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'title = "x"\n\n' + ONE + "\n[outlets]\nx = 1\n")
    message = load_error(path)
    assert f'{path}:1: unknown top-level key "title"' in message
    assert f'{path}:8: unknown top-level key "outlets"' in message
    assert 'did you mean "outlet"?' in message


def test_single_table_instead_of_array(tmp_path: Path) -> None:
    path = write(tmp_path, "# comment\n" + ONE.replace("[[outlet]]", "[outlet]"))
    message = load_error(path)
    assert message.startswith(f'{path}:2: "outlet" must be a list of tables')
    assert "[[outlet]]" in message


def test_unknown_key_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + 'feed = ["http://127.0.0.1:8765/rss"]\n')
    message = load_error(path)
    assert message.startswith(f'{path}:5: outlet "one": unknown key "feed"; did you mean "feeds"?')
    assert f"(known keys: {', '.join(KNOWN_KEYS)})" in message


def test_unknown_key_in_dotted_and_subtable_form(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + "extra.value = 1\n\n[outlet.more]\nx = 1\n")
    message = load_error(path)
    assert f'{path}:5: outlet "one": unknown key "extra"' in message
    assert f'{path}:7: outlet "one": unknown key "more"' in message


@pytest.mark.parametrize("key", ["slug", "name", "homepage"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    second = "\n".join(line for line in ONE.splitlines() if not line.startswith(key))
    second = second.replace('"one"', '"two"')
    path = write(tmp_path, ONE + "\n# second\n" + second + "\n")
    label = "outlet #2" if key == "slug" else 'outlet "two"'
    assert load_error(path) == f'{path}:7: {label}: missing required key "{key}"'


def test_missing_slug_and_homepage_are_both_reported(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + '\n[[outlet]]\nname = "Two"\n')
    assert load_error(path) == (
        f'{path}:6: outlet #2: missing required key "slug"\n'
        f'{path}:6: outlet #2: missing required key "homepage"'
    )


def bad_value(tmp_path: Path, line: str) -> tuple[Path, str]:
    """An outlets file whose first outlet has `line` appended (as line 5)."""
    key = line.split("=", 1)[0].strip()
    text = "\n".join(row for row in ONE.splitlines() if not row.startswith(key + " "))
    path = write(tmp_path, text + "\n" * (5 - text.count("\n") - 1) + line + "\n")
    return path, load_error(path)


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ('homepage = "aa.com.tr/fr"', '"aa.com.tr/fr" is not an http(s) URL'),
        ('homepage = "ftp://example.com/"', '"ftp://example.com/" is not an http(s) URL'),
        ('homepage = "https://"', '"https://" is not an http(s) URL'),
        ('homepage = " https://example.com/"', '" https://example.com/" is not an http(s) URL'),
        ('feeds = ["https://example.com/rss", "rss.xml"]', '"rss.xml" is not an http(s) URL'),
        ('sitemaps = ["mailto:a@example.com"]', '"mailto:a@example.com" is not an http(s) URL'),
        (
            'language = "french"',
            '"french" is not a two-letter lowercase ISO 639-1 code (e.g. "fr")',
        ),
        ('language = "FR"', '"FR" is not a two-letter lowercase ISO 639-1 code (e.g. "fr")'),
        (
            'country = "tr"',
            '"tr" is not a two-letter uppercase ISO 3166-1 alpha-2 code (e.g. "TR")',
        ),
        (
            'country = "TUR"',
            '"TUR" is not a two-letter uppercase ISO 3166-1 alpha-2 code (e.g. "TR")',
        ),
        (
            'domains = ["https://trtfrancais.com/"]',
            '"https://trtfrancais.com/" is not a bare host name (write "trtfrancais.com")',
        ),
        (
            'domains = ["trtfrancais.com/fr"]',
            '"trtfrancais.com/fr" is not a bare host name (write "trtfrancais.com")',
        ),
        ('domains = ["*.example.com"]', '"*.example.com" is not a bare host name'),
        ('name = ""', "must not be empty"),
        ("name = 42", "expected a string, got an integer (42)"),
        ("homepage = true", "expected a string, got a boolean (True)"),
        ("article_pattern = ['a']", "expected a string, got an array"),
        (
            'feeds = "https://example.com/rss"',
            'expected a list of strings, got a string (write feeds = ["..."])',
        ),
        ("exclude = 3", "expected a list of strings, got an integer (3)"),
        ('domains = ["example.com", 7]', "expected a list of strings, item 2 is an integer (7)"),
        ("exclude = [{ a = 1 }]", "expected a list of strings, item 1 is a table"),
    ],
)
def test_bad_value(tmp_path: Path, line: str, detail: str) -> None:
    key = line.split("=", 1)[0].strip()
    path, message = bad_value(tmp_path, line)
    assert message == f'{path}:5: outlet "one": bad value for "{key}": {detail}'


@pytest.mark.parametrize(
    "line",
    ["article_pattern = '(unclosed'", "exclude = ['/ok/', '(unclosed']"],
)
def test_bad_regex(tmp_path: Path, line: str) -> None:
    key = line.split("=", 1)[0].strip()
    path, message = bad_value(tmp_path, line)
    assert message.startswith(
        f'{path}:5: outlet "one": bad value for "{key}": invalid regular expression "(unclosed": '
    )
    assert "missing )" in message


@pytest.mark.parametrize("slug", ["TRT", "trt_francais", "trt français", ""])
def test_bad_slug(tmp_path: Path, slug: str) -> None:
    path, message = bad_value(tmp_path, f'slug = "{slug}"')
    assert message == (
        f'{path}:5: outlet #1: bad value for "slug": "{slug}" may only contain lowercase'
        " letters, digits and hyphens ([a-z0-9-]+)"
    )


def test_slug_of_wrong_type(tmp_path: Path) -> None:
    path, message = bad_value(tmp_path, "slug = 1")
    assert (
        message
        == f'{path}:5: outlet #1: bad value for "slug": expected a string, got an integer (1)'
    )


def test_duplicate_slug(tmp_path: Path) -> None:
    path = write(tmp_path, ONE + "\n" + ONE)
    assert load_error(path) == (
        f'{path}:7: outlet #2: duplicate slug "one" (already used by outlet #1, line 1)'
    )


def test_line_numbers_skip_multiline_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '''\
        [[outlet]]
        slug = "one"
        name = """One
        homepage = "not a key"
        """
        exclude = [
            '[0-9]',
            'a=b',
        ]
        homepage = "nope"
        ''',
    )
    assert load_error(path) == (
        f'{path}:10: outlet "one": bad value for "homepage": "nope" is not an http(s) URL'
    )


def test_all_errors_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[outlet]]
        slug = "one"
        name = "One"
        homepage = "example.com"
        language = "fra"

        [[outlet]]
        slug = "Two"
        """,
    )
    assert load_error(path).splitlines() == [
        f'{path}:4: outlet "one": bad value for "homepage": "example.com" is not an http(s) URL',
        f'{path}:5: outlet "one": bad value for "language": "fra" is not a two-letter lowercase'
        ' ISO 639-1 code (e.g. "fr")',
        f'{path}:7: outlet #2: missing required key "name"',
        f'{path}:7: outlet #2: missing required key "homepage"',
        f'{path}:8: outlet #2: bad value for "slug": "Two" may only contain lowercase letters,'
        " digits and hyphens ([a-z0-9-]+)",
    ]


def test_errors_are_listed_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, ONE.replace("homepage", "homepag") + 'language = "FRA"\n')
    assert load_error(path).splitlines() == [
        f'{path}:1: outlet "one": missing required key "homepage"',
        f'{path}:4: outlet "one": unknown key "homepag"; did you mean "homepage"? (known keys:'
        f" {', '.join(KNOWN_KEYS)})",
        f'{path}:5: outlet "one": bad value for "language": "FRA" is not a two-letter lowercase'
        ' ISO 639-1 code (e.g. "fr")',
    ]


def test_inline_table_outlets_point_at_the_outlet_key(tmp_path: Path) -> None:
    path = write(tmp_path, '# inline\noutlet = [{ slug = "a", name = "A" }]\n')
    assert load_error(path) == f'{path}:2: outlet "a": missing required key "homepage"'


def test_regex_is_shown_as_written(tmp_path: Path) -> None:
    _, message = bad_value(tmp_path, r"exclude = ['\d+(']")
    assert r'invalid regular expression "\d+(": missing )' in message


# --- extraction rules (drop, body) -------------------------------------------------------


def test_extraction_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE
        + "drop = ['.share', 'aside.lire-aussi', \"div[class*='author']\"]\n"
        + "body = 'article .texte'\n",
    )
    (outlet,) = load_seeds(path)
    assert outlet.drop == (".share", "aside.lire-aussi", "div[class*='author']")
    assert outlet.body == "article .texte"
    assert outlet.rules and outlet.rules.body == "article .texte"


def test_no_extraction_rules_by_default(tmp_path: Path) -> None:
    (outlet,) = load_seeds(write(tmp_path, ONE))
    assert outlet.drop == () and outlet.body is None and not outlet.rules
    (outlet,) = load_seeds(write(tmp_path, ONE + 'drop = []\nbody = ""\n'))
    assert not outlet.rules


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("drop = ['div[']", 'invalid CSS selector "div["'),
        ("drop = ['.ok', '']", "empty CSS selector"),
        ("body = 'p:::x'", 'invalid CSS selector "p:::x"'),
        ("drop = '.share'", 'expected a list of strings, got a string (write drop = ["..."])'),
        ("body = ['.texte']", "expected a string, got an array"),
    ],
)
def test_bad_extraction_rules(tmp_path: Path, line: str, detail: str) -> None:
    key = line.split("=", 1)[0].strip()
    path, message = bad_value(tmp_path, line)
    assert message.startswith(f'{path}:5: outlet "one": bad value for "{key}": {detail}')
