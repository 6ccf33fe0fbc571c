"""Is this page one article, and is its text whole? Reasons and warnings, in words.

A page that is not an article (empty or near-empty body, a listing of headlines, a page
that declares itself something else) is recorded in `fetches` with the reason and not
archived. An article whose text is probably incomplete (a paywall, a teaser cut short, a
very short body) is archived with a warning, because the outlet did publish it and its
title and date are worth keeping.
"""

from __future__ import annotations

import re

import lxml.html

from archive.metadata import ARTICLE_TYPES, PageMeta

MIN_WORDS_DECLARED = 25  # a page that says it is an article may be a short brief
MIN_WORDS_UNDECLARED = 150  # otherwise ask for a real body before calling it one
SHORT_WORDS = 80  # below this an article is archived with a warning

PAYWALL_TEXT = re.compile(
    r"réservée?s? aux abonnés|abonnez-vous pour (?:lire|continuer)|la suite est réservée|"
    r"article réservé|pour lire la suite|subscribe to (?:continue|read)|subscribers only|"
    r"this (?:article|content) is (?:only )?(?:for|available to) subscribers|"
    r"sign in to (?:continue|read)|to continue reading|already a subscriber|"
    r"nur für abonnenten|weiterlesen mit|jetzt abonnieren|abo abschließen|"
    r"abonelere özel|okumaya devam etmek için|"
    r"exclusivo para suscriptores|contenido exclusivo|solo per gli abbonati|"
    r"riservato agli abbonati|conteúdo exclusivo para assinantes|"
    r"только для подписчиков|доступно подписчикам",
    re.IGNORECASE,
)
TRUNCATED_END = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|\(…\)|\(\.\.\.\))\s*$|"
    r"(?:lire la suite|read more|continue reading|weiterlesen|devamını oku|leer más|"
    r"continua a leggere|leia mais|читать далее)\W*$",
    re.IGNORECASE,
)


def _false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def paywall_evidence(meta: PageMeta, tree: lxml.html.HtmlElement, text: str, words: int) -> str:
    """Why the text is probably behind a paywall, or ""."""
    for obj in meta.article_objects():
        if _false(obj.get("isAccessibleForFree")):
            return "JSON-LD isAccessibleForFree=false"
        parts = obj.get("hasPart")
        for part in parts if isinstance(parts, list) else [parts]:
            if isinstance(part, dict) and _false(part.get("isAccessibleForFree")):
                return "JSON-LD marks a part as not free"
    tier = (meta.first("article:content_tier") or "").lower()
    if tier in {"locked", "metered"}:
        return f"article:content_tier={tier}"
    tail = "\n".join(text.splitlines()[-3:])
    if PAYWALL_TEXT.search(tail):
        return "subscription notice at the end of the text"
    if words < 200 and tree.xpath(
        "//*[contains(translate(@class, 'PAYWL', 'paywl'), 'paywall')"
        " or contains(translate(@id, 'PAYWL', 'paywl'), 'paywall')]"
    ):
        return "short text on a page with a paywall element"
    return ""


def quality_warnings(
    meta: PageMeta, tree: lxml.html.HtmlElement, text: str, words: int
) -> list[str]:
    """Warnings for an article kept in the archive."""
    warnings: list[str] = []
    if words < SHORT_WORDS:
        warnings.append(f"short body ({words} words)")
    paywall = paywall_evidence(meta, tree, text, words)
    if paywall:
        warnings.append(f"probable paywall ({paywall})")
    last = text.rstrip().splitlines()[-1] if text.strip() else ""
    if TRUNCATED_END.search(last):
        warnings.append("probable truncation (text ends with an ellipsis or a 'read more')")
    declared_words = next(
        (
            int(str(o.get("wordCount")))
            for o in meta.article_objects()
            if str(o.get("wordCount") or "").isdigit()
        ),
        0,
    )
    if declared_words >= 100 and words < 0.5 * declared_words:
        warnings.append(
            f"probable truncation ({words} words of the {declared_words} the page declares)"
        )
    return warnings


LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}


def headline_links(tree: lxml.html.HtmlElement) -> int:
    """Links long enough to be headlines: many of them make a listing page."""
    return sum(1 for a in tree.iter("a") if len(" ".join(a.text_content().split())) >= 40)


def judge_article(
    meta: PageMeta, words: int, tree: lxml.html.HtmlElement | None = None, links: int | None = None
) -> tuple[bool, str | None]:
    """Is this page one article (not a listing, a static page or an empty shell)?

    `links` is `headline_links` of the page as fetched (before pruning), else of `tree`.
    """
    if words == 0:
        return False, "empty body"
    if meta.declares_article:
        if words < MIN_WORDS_DECLARED:
            return False, f"very short body: declared an article but only {words} words of text"
        return True, None
    listing_types = meta.types & LISTING_TYPES
    if listing_types:
        return False, f"looks like a listing (page declares {', '.join(sorted(listing_types))})"
    declared = meta.og.get("type", "").lower()
    if declared and declared not in ARTICLE_TYPES:
        return False, f"page declares og:type={declared}"
    if links is None:
        links = headline_links(tree) if tree is not None else 0
    if links >= 12 and words < 40 * links:
        return False, f"looks like a listing ({links} headline links)"
    if words < MIN_WORDS_UNDECLARED:
        return False, f"very short body: no article markup and only {words} words of text"
    return True, None
