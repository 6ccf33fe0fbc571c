"""URL canonicalisation and de-duplication keys."""

from __future__ import annotations

import pytest

from archive.urls import canonical_url, host_of, normalize_host, same_site, url_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # already canonical
        ("https://www.example.com/a/b/", "https://www.example.com/a/b/"),
        ("https://example.com/a/b", "https://example.com/a/b"),
        # scheme and host case; path case is meaningful
        ("HTTPS://WWW.Example.COM/Article", "https://www.example.com/Article"),
        # fragments
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?p=1#top", "https://example.com/a?p=1"),
        # default ports dropped, other ports kept
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("http://127.0.0.1:8765/a/", "http://127.0.0.1:8765/a/"),
        ("http://localhost:8765", "http://localhost:8765/"),
        # empty path and empty query
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?&&", "https://example.com/a"),
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        # userinfo never reaches the archive
        ("https://user:secret@example.com/a", "https://example.com/a"),
        # trailing dot of a fully qualified host
        ("https://example.com./a", "https://example.com/a"),
        # whitespace around and tabs/newlines inside, as in wrapped HTML attributes
        ("  https://example.com/a\n/b  ", "https://example.com/a/b"),
    ],
)
def test_canonical_url_basics(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "param",
    [
        "utm_source=x",
        "utm_medium=social",
        "UTM_Campaign=x",
        "utm_whatever=x",
        "fbclid=abc",
        "gclid=abc",
        "gclsrc=aw.ds",
        "dclid=abc",
        "gbraid=abc",
        "wbraid=abc",
        "msclkid=abc",
        "mc_cid=abc",
        "mc_eid=abc",
        "igshid=abc",
        "yclid=abc",
        "_ga=1.2.3",
        "_gl=1*abc",
        "xtor=RSS-3",
        "XTOR=CS1-8",
        "at_medium=rss",
        "at_campaign=x",
        "at_custom1=x",
        "ncid=x",
        "ocid=x",
        "cmpid=x",
        "s_cid=x",
        "wt_mc=x",
        "__twitter_impression=true",
        "_hsenc=x",
        "_hsmi=1",
        "mkt_tok=x",
        "share=twitter",
        "ref_src=twsrc%5Etfw",
        "ref_url=x",
        "spm=a.b.c",
        "vero_id=1",
        "utm%5Fsource=x",
    ],
)
def test_tracking_parameters_are_removed(param: str) -> None:
    assert canonical_url(f"https://example.com/a?{param}") == "https://example.com/a"
    assert (
        canonical_url(f"https://example.com/a?p=2&{param}&q=1") == "https://example.com/a?p=2&q=1"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # other parameters keep their order (no sorting)
        ("https://example.com/s?z=1&a=2&m=3", "https://example.com/s?z=1&a=2&m=3"),
        # repeated parameters are all kept
        ("https://example.com/s?tag=a&tag=b", "https://example.com/s?tag=a&tag=b"),
        # parameters that merely look like tracking ones
        (
            "https://example.com/s?at=1&utm=2&share_id=3",
            "https://example.com/s?at=1&utm=2&share_id=3",
        ),
        # valueless parameters stay valueless
        ("https://example.com/s?print", "https://example.com/s?print"),
    ],
)
def test_meaningful_parameters_are_kept(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/2024/05/slug/amp/",
        "https://example.com/2024/05/slug/amp",
        "https://example.com/amp/2024/05/slug",
        "https://amp.example.com/2024/05/slug",
        "https://example.com/2024/05/slug?amp",
        "https://example.com/2024/05/slug?amp=1",
        "https://example.com/2024/05/slug?amp=true",
        "https://example.com/2024/05/slug?AMP=True",
        "https://example.com/2024/05/slug?outputType=amp",
        "https://example.com/2024/05/slug?outputtype=AMP",
    ],
)
def test_amp_variants_collapse(url: str) -> None:
    canon = canonical_url(url)
    assert canon is not None
    assert canon.rstrip("/") == "https://example.com/2024/05/slug"
    assert url_key(url) == url_key("https://example.com/2024/05/slug/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # WordPress: /slug/amp/ is the AMP view of /slug/
        ("https://example.com/slug/amp/", "https://example.com/slug/"),
        ("https://example.com/slug/amp", "https://example.com/slug"),
        ("https://example.com/amp/slug/", "https://example.com/slug/"),
        ("https://example.com/amp/", "https://example.com/"),
        ("https://example.com/amp", "https://example.com/"),
        ("https://example.com/slug?amp&p=2", "https://example.com/slug?p=2"),
        # not AMP markers
        ("https://example.com/ampoule/", "https://example.com/ampoule/"),
        ("https://example.com/camp/", "https://example.com/camp/"),
        ("https://example.com/slug?amp=0", "https://example.com/slug?amp=0"),
        ("https://example.com/slug?outputType=html", "https://example.com/slug?outputType=html"),
        ("https://ample.example.com/a", "https://ample.example.com/a"),
    ],
)
def test_amp_path_forms(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://m.example.com/a", "https://example.com/a"),
        ("https://mobile.example.com/a", "https://example.com/a"),
        ("https://M.Example.com/a", "https://example.com/a"),
        ("https://amp.example.com/a", "https://example.com/a"),
        ("https://m.lemonde.fr/a", "https://lemonde.fr/a"),
        # the label must be the whole first label, and a registrable domain is left intact
        ("https://media.example.com/a", "https://media.example.com/a"),
        ("https://m.com/a", "https://m.com/a"),
        # www. is kept in the canonical URL
        ("https://www.example.com/a", "https://www.example.com/a"),
    ],
)
def test_mobile_hosts(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.trt.global/français/", "https://www.trt.global/fran%C3%A7ais/"),
        ("https://www.trt.global/français/", "https://www.trt.global/fran%c3%a7ais/"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/%7Euser", "https://example.com/~user"),
        ("https://example.com/s?q=été", "https://example.com/s?q=%C3%A9t%C3%A9"),
        ("https://example.com/s?q=a b", "https://example.com/s?q=a+b"),
        ("https://example.com/s?q=a%20b", "https://example.com/s?q=a+b"),
        ("https://example.com/s?q=a,b", "https://example.com/s?q=a%2Cb"),
        ("https://exämple.com/a", "https://xn--exmple-cua.com/a"),
        ("https://EXÄMPLE.com/a", "https://xn--exmple-cua.com/a"),
    ],
)
def test_percent_encoding_is_consistent(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_percent_encoding_forms() -> None:
    assert canonical_url("https://www.trt.global/français/") == (
        "https://www.trt.global/fran%C3%A7ais/"
    )
    # reserved characters keep their meaning: an encoded "/" or "&" is not a separator
    assert canonical_url("https://example.com/a%2Fb") == "https://example.com/a%2Fb"
    assert canonical_url("https://example.com/s?q=a%26b&r=1") == "https://example.com/s?q=a%26b&r=1"
    assert canonical_url("https://example.com/s?q=1%2B1") == "https://example.com/s?q=1%2B1"
    # bytes that are not UTF-8 survive
    assert canonical_url("https://example.com/s?q=%A3") == "https://example.com/s?q=%A3"


@pytest.mark.parametrize(
    "url",
    [
        "mailto:redaction@example.com",
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "data:text/html,hello",
        "tel:+33100000000",
        "ftp://example.com/file",
        "file:///etc/hosts",
        "whatsapp://send?text=x",
        "",
        "   ",
        "/relative/without/base",
        "https://",
        "http://exa mple.com/",
        "http://[::1/",
        "http://example.com:99999/",
        "http://example.com:port/",
    ],
)
def test_non_http_or_unparsable_gives_none(url: str) -> None:
    assert canonical_url(url) is None


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/a/b?utm_source=x", "https://example.com/x/y", "https://example.com/a/b"),
        ("b", "https://example.com/x/y", "https://example.com/x/b"),
        ("../b", "https://example.com/x/y/z", "https://example.com/x/b"),
        ("//cdn.example.com/a", "https://example.com/", "https://cdn.example.com/a"),
        ("?p=2", "https://example.com/list?p=1", "https://example.com/list?p=2"),
        ("#top", "https://example.com/a", "https://example.com/a"),
        ("https://other.example/a", "https://example.com/", "https://other.example/a"),
        ("/a", "http://127.0.0.1:8765/x", "http://127.0.0.1:8765/a"),
        ("mailto:a@example.com", "https://example.com/", None),
        ("javascript:void(0)", "https://example.com/", None),
    ],
)
def test_relative_url_with_base(url: str, base: str, expected: str | None) -> None:
    assert canonical_url(url, base=base) == expected


def test_canonical_url_is_idempotent() -> None:
    urls = [
        "https://www.trt.global/français/article/x?utm_source=y#z",
        "https://m.example.com/a/amp/?b=1&a=2&fbclid=1",
        "http://127.0.0.1:8765/s?q=a b",
    ]
    for url in urls:
        canon = canonical_url(url)
        assert canon is not None
        assert canonical_url(canon) == canon


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://example.com/a", "https://example.com/a"),
        ("https://www.example.com/a", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com/s?a=1&b=2", "https://example.com/s?b=2&a=1"),
        ("http://www.example.com/a/?b=2&a=1#x", "https://example.com/a?a=1&b=2&utm_source=y"),
        ("https://m.example.com/a/amp/", "https://www.example.com/a"),
        ("https://www.trt.global/français/a", "http://trt.global/fran%C3%A7ais/a/"),
    ],
)
def test_url_key_equivalences(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/article-one", "https://example.com/article-two"),
        ("https://example.com/?p=12", "https://example.com/?p=13"),
        ("https://example.com/a", "https://example.org/a"),
        ("https://example.com/a", "https://news.example.com/a"),
        ("https://example.com/A", "https://example.com/a"),
        ("http://127.0.0.1:8765/a", "http://127.0.0.1:8766/a"),
        ("https://example.com/s?tag=a&tag=b", "https://example.com/s?tag=a"),
    ],
)
def test_url_key_differences(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_url_key_of_non_http_input() -> None:
    assert url_key(" mailto:a@example.com ") == "mailto:a@example.com"
    assert url_key("mailto:a@example.com") != url_key("https://example.com/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Example.com:8443/a", "example.com"),
        ("https://news.example.com/a", "news.example.com"),
        ("http://127.0.0.1:8765/", "127.0.0.1"),
        ("https://www.trt.global/français/", "trt.global"),
        ("https://exämple.com/", "xn--exmple-cua.com"),
        ("https://wwwexample.com/", "wwwexample.com"),
        ("mailto:a@example.com", ""),
        ("/relative", ""),
        ("http://[::1/", ""),
    ],
)
def test_host_of(url: str, expected: str) -> None:
    assert host_of(url) == expected


@pytest.mark.parametrize(
    ("url", "domains", "expected"),
    [
        ("https://www.trtfrancais.com/a", ["trt.global", "trtfrancais.com"], True),
        ("https://trt.global/a", ["trt.global"], True),
        ("https://news.trt.global/a", ["trt.global"], True),
        ("https://nottrt.global/a", ["trt.global"], False),
        ("https://trt.global.evil.example/a", ["trt.global"], False),
        ("https://example.com/a", ["www.example.com"], True),
        ("https://EXAMPLE.com/a", ["Example.COM"], True),
        ("http://127.0.0.1:8765/a", ["127.0.0.1"], True),
        ("https://exämple.com/a", ["xn--exmple-cua.com"], True),
        ("https://example.com/a", [], False),
        ("mailto:a@example.com", ["example.com"], False),
    ],
)
def test_same_site(url: str, domains: list[str], expected: bool) -> None:
    assert same_site(url, domains) is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Example.COM.", "example.com"),
        ("exämple.com", "xn--exmple-cua.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::0:1]", "::1"),
        ("localhost", "localhost"),
        ("https://example.com", None),
        ("example.com/path", None),
        ("*.example.com", None),
        ("-bad.example.com", None),
        ("", None),
    ],
)
def test_normalize_host(host: str, expected: str | None) -> None:
    assert normalize_host(host) == expected
