"""Per-outlet extraction rules: CSS selectors applied to a page before trafilatura.

Most outlets need none: the generic extraction handles them. When it is wrong for one
outlet (a "Lire aussi" box kept in the text, a disclaimer after every article, the body
missed), its `[[outlet]]` in seeds/outlets.toml says so as data:

    drop = [".share-bar", "aside.lire-aussi", ".author-box"]   # parts never in the text
    body = "div.article-body"                                   # the element(s) holding it

`drop` removes every element matching any selector (their tail text stays). `body`, when
it matches, narrows the page to the matching elements (outermost ones, in page order)
before trafilatura cleans them; when it matches nothing the page is extracted as usual
and the article carries a warning, so a redesign of the outlet shows up in the archive.
Metadata (title, dates, authors) is read from the whole page first, so rules never hide it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import lxml.html
from cssselect import HTMLTranslator, SelectorError
from lxml import etree

__all__ = ["ExtractionRules", "RuleError", "apply_rules", "check_selector"]


class RuleError(ValueError):
    """A selector that cannot be used; the message says why."""


@lru_cache(maxsize=512)
def _compiled(selector: str) -> etree.XPath:
    try:
        # HTML semantics: element names are case-insensitive, as in a browser.
        expression = HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise RuleError(f'invalid CSS selector "{selector}": {exc}') from None
    return etree.XPath(expression)


def check_selector(selector: str) -> str:
    """The selector itself if it compiles, else RuleError naming the problem."""
    if not selector.strip():
        raise RuleError("empty CSS selector")
    _compiled(selector)
    return selector


@dataclass(frozen=True)
class ExtractionRules:
    """What an outlet's seeds entry says about its pages."""

    drop: tuple[str, ...] = ()
    body: str | None = None

    def __bool__(self) -> bool:
        return bool(self.drop or self.body)

    @classmethod
    def of(cls, drop: Iterable[str] = (), body: str | None = None) -> ExtractionRules:
        """Rules with every selector checked first (RuleError names a bad one)."""
        drop = tuple(drop)
        for selector in (*drop, *([body] if body else [])):
            check_selector(selector)
        return cls(drop=tuple(drop), body=body or None)


def _outermost(elements: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    chosen = set(elements)
    return [el for el in elements if not any(anc in chosen for anc in el.iterancestors())]


def apply_rules(tree: lxml.html.HtmlElement, rules: ExtractionRules | None) -> list[str]:
    """Apply the rules to `tree` in place; return warnings (e.g. a body selector that missed)."""
    if not rules:
        return []
    warnings: list[str] = []
    for selector in rules.drop:
        for element in _outermost(_compiled(selector)(tree)):
            if element.getparent() is not None:
                element.drop_tree()
    if rules.body:
        warning = _narrow_to_body(tree, rules.body)
        if warning:
            warnings.append(warning)
    return warnings


def _narrow_to_body(tree: lxml.html.HtmlElement, selector: str) -> str | None:
    """Replace the page's <body> content with the elements `selector` matches."""
    body = tree.find("body")
    found = [el for el in _compiled(selector)(tree) if isinstance(el.tag, str)]
    kept = [el for el in _outermost(found) if el.tag not in ("html", "head", "body")]
    if body is None or not found:
        return f"body selector {selector!r} matched nothing"
    if not kept:
        return f"body selector {selector!r} matched the whole page"
    for child in list(body):
        body.remove(child)
    body.text = None
    holder = etree.SubElement(body, "article")
    for element in kept:
        element.tail = None
        holder.append(element)  # moves the element out of its old place
    return None
