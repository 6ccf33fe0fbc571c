"""What is never article text: page parts pruned before trafilatura, lines cleaned after it.

Before: share widgets, author boxes, comment blocks, captions, teaser cards (a link
wrapping a headline or a paragraph: "related", "most read", "you might also like") and
the blocks introduced by a related-content heading. After: the lines trafilatura keeps
around the body — the headline repeated, kicker, byline, dateline and reading time above
it; "Read also:" links, photo credits and copyright notices within it; tags, signature,
credit line and author bio below it. Everything here is about the shape of news pages
in general, in the languages the archive meets; nothing names an outlet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

import lxml.html

from archive.credits import add_credits, credit_agencies
from archive.dates import MONTHS, parse_date_text
from archive.metadata import clean_authors

# Parts of a page that are never the article body, whatever the theme calls them
# otherwise; pruned (by trafilatura, on its copy of the tree) before it looks for the text.
# One expression for the class and id tests: libxml2 walks the whole tree for each `//*`
# expression (~1 ms a page each), and a union of them prunes the same nodes.
_PRUNED_BY_NAME = " or ".join(
    [
        "contains(@class, 'sharedaddy')",
        "contains(@class, 'share-line')",
        "contains(@class, 'social-share')",
        "contains(@class, 'author-box')",
        "contains(@class, 'author-bio')",
        "contains(@class, 'about-author')",
        "contains(@class, 'related-posts')",
        "contains(@class, 'jp-relatedposts')",
        "@id='comments'",
        "@id='respond'",
        "contains(@class, 'comment-respond')",
        "contains(@class, 'comments-link')",
        # Captions describe a picture the text does not show.
        "contains(@class, 'caption')",
    ]
)
PRUNE_XPATH = [
    # Share bars, author boxes, related posts, comments and captions.
    f"//*[(@class or @id) and ({_PRUNED_BY_NAME})]",
    # Teaser cards: a link that wraps a headline or a paragraph points to another article.
    # Not a link inside a paragraph or one that starts with words: an unclosed <a> in the
    # text makes libxml2 nest the paragraphs after it inside the link, and those are the
    # article.
    "//a[@href][.//p or .//h1 or .//h2 or .//h3 or .//h4 or .//h5 or .//h6]"
    "[not(ancestor::p) and not(normalize-space(text()[1])) and count(.//p) <= 3]",
    "//figcaption",
]

RELATED_HEADING = re.compile(
    r"^(?:you might also like|you may also like|related(?: articles| stories| news| content|"
    r" posts| coverage)?|read (?:also|more|next)|also read|more (?:stories|news|articles)|"
    r"most (?:popular|read|viewed)|trending(?: now)?|recommended(?: for you)?|see also|"
    r"further reading|editor'?s picks|top stories|latest news|"
    r"(?:à )?lire aussi|(?:à )?lire également|(?:à )?voir aussi|sur le même (?:sujet|thème)|"
    r"dans la même rubrique|les plus lus|articles (?:similaires|liés|recommandés)|"
    r"vous aimerez aussi|nos articles|"
    r"das könnte sie auch interessieren|mehr zum thema|lesen sie auch|auch interessant|"
    r"meistgelesen(?:e artikel)?|weitere artikel|ähnliche artikel|"
    r"benzer haberler|ilgili haberler|ayrıca okuyun|bunlar da ilginizi çekebilir|"
    r"en çok okunan(?:lar)?|çok okunanlar|diğer haberler|"
    r"te puede interesar|noticias relacionadas|lo más leído|más leídas|lee también|"
    r"leggi anche|potrebbe interessarti|articoli correlati|più letti|"
    r"leia também|veja também|mais lidas|"
    r"читайте также|популярное|похожие новости|другие новости|"
    r"lees ook|läs också|mest läst)\W*$",
    re.IGNORECASE,
)


def prune_related_blocks(tree: lxml.html.HtmlElement) -> None:
    """Remove blocks introduced by a related-content heading ("Lire aussi", "Most read")."""
    for heading in tree.xpath(
        "//body//*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
    ):
        text = " ".join(heading.text_content().split())
        if not text or len(text) > 60 or not RELATED_HEADING.match(text):
            continue
        block = _link_block(heading)
        target = block if block is not None else heading
        if target.getparent() is not None:
            target.drop_tree()


def _link_block(heading: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The nearest container of the heading that is mostly links (the related list)."""
    node = heading
    for _ in range(3):
        node = node.getparent()
        if node is None or node.tag in ("body", "html", "article", "main"):
            return None
        text = len("".join(node.text_content().split()))
        if text > 3000:
            return None
        links = sum(len("".join(a.text_content().split())) for a in node.iter("a"))
        if text and links / text >= 0.5:
            return node
    return None


# -- lines -----------------------------------------------------------------------------------

# A line that is only a number (a theme's comment counter under the headline).
COUNTER_LINE = re.compile(r"^\s*\d{1,5}\s*$")
# "Partager cet article ? https://…", "Share on Facebook", "Partagez." — the verb and only
# words that go with it, so "Share prices fell sharply" stays.
SHARE_LINE = re.compile(
    r"^\W*(?:partager|partagez|partage|share|teilen|compartir|condividi|paylaş)"
    r"(?:[\s:?!.,|]+(?:cet|cette|l['’]|article|articles?|la|page|sur|on|via|by|par|this|"
    r"story|post|news|diesen|artikel|sie|este|artículo|bu|haberi|facebook|twitter|x|"
    r"whatsapp|linkedin|telegram|e-?mail|courriel|https?://\S+))*[\s?!.:]*$",
    re.IGNORECASE,
)
AUTHOR_BOX_HEADING = re.compile(
    r"^\s*(à propos de l['’]auteur|a propos de l['’]auteur|about the author|"
    r"l['’]auteur|sur l['’]auteur)\s*:?\s*$",
    re.IGNORECASE,
)
_READ_ALSO = (
    r"also read|read also|read more|read next|see also|related|more on this|"
    r"(?:à )?lire aussi|(?:à )?lire également|(?:à )?voir aussi|"
    r"lesen sie auch|lesen sie mehr|mehr zum thema|auch interessant|"
    r"ayrıca okuyun|ayrıca bakınız|ilgili haber|"
    r"lee también|leer también|te puede interesar|leggi anche|leia também|veja também|"
    r"читайте также|lees ook|läs också|läs mer"
)
READ_ALSO_LINE = re.compile(rf"^\W{{0,3}}(?:{_READ_ALSO})(?:\s*[:|»>›\-–—]|\s*$)", re.IGNORECASE)
READ_ALSO_CAPS = re.compile(rf"^\W{{0,3}}(?:{_READ_ALSO})\s", re.IGNORECASE)
COPYRIGHT_LINE = re.compile(
    r"©|ⓒ|\(c\)\s*\d{4}|\bcopyright\b\s*(?:©|\(c\)|\d{4}|@)|all rights reserved|"
    r"tous droits réservés|alle rechte vorbehalten|tüm hakları saklıdır|"
    r"todos los derechos reservados|tutti i diritti riservati|все права защищены|"
    r"무단 전재|版权所有",
    re.IGNORECASE,
)
PHOTO_CREDIT_LINE = re.compile(
    r"^\W{0,3}(?:photo|photos|foto|fotos|фото|fotoğraf|ảnh|image|images|bild|bilder|"
    r"crédits? photos?|credits?|picture|pictures|illustration|source photo)\s*:\s*\S",
    re.IGNORECASE,
)
READING_TIME_LINE = re.compile(
    r"^\W*(?:(?:lesezeit|lesedauer|temps de lecture|reading time|okuma süresi|"
    r"tiempo de lectura|tempo di lettura)\s*:?\s*)?\d{1,3}\s*"
    r"(?:min(?:ute)?s?|minuten|dakika|minutos|minuti|мин(?:ут[аы]?)?)\.?\s*"
    r"(?:read|de lecture|lesezeit|lesedauer|lesen|okuma(?: süresi)?|okuma|de lectura|"
    r"di lettura|чтения)?\W*$",
    re.IGNORECASE,
)
TAGS_LABEL = re.compile(
    r"^\W{0,3}(?:tags?|etiketler|etiket|konular|mots[- ]clés|schlagwörter|schlagworte|"
    r"stichwörter|themen|etiquetas|temas|argomenti|теги|ключевые слова|keywords|"
    r"ilgili konular)\s*:?\W{0,3}$",
    re.IGNORECASE,
)
BYLINE_LINE = re.compile(
    r"^\W{0,3}(?:by|par|von|por|di|door|av|yazan|autor|author|auteur|texte?)\s*:?\s+\S",
    re.IGNORECASE,
)
# Words that may surround a date in a dateline ("Veröffentlicht am 13. Mai 2026 um 15:44").
DATELINE_WORDS = re.compile(
    r"\b(?:published|posted|updated|on|at|le|à|mis à jour|publié|modifié|veröffentlicht|"
    r"aktualisiert|am|um|uhr|publicado|actualizado|el|a las|pubblicato|aggiornato|alle|"
    r"publicerad|uppdaterad|kl|yayınlanma|yayınlanış|güncelleme|tarihi|saat|"
    r"опубликовано|обновлено|в|jst|utc|gmt|cet|cest|et|pt|edt|est|bst|trt)\b",
    re.IGNORECASE,
)

WEEKDAY = re.compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun|lun|mar|mer|jeu|ven|sam|dim|pazartesi|salı|"
    r"çarşamba|perşembe|cuma|cumartesi|pazar|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|samstag|sonntag)",
    re.IGNORECASE,
)

HEAD_ZONE = 8  # lines above the body where a title, byline or dateline can sit
SHORT = 6  # words: a kicker, a section name, a label


def _key(text: str) -> str:
    return "".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold()))


def _words(text: str) -> int:
    return len(text.split())


def is_date_line(line: str) -> bool:
    """A short line that is a date (with a time, a label) and nothing else."""
    if _words(line) > 14 or not parse_date_text(line):
        return False
    rest = DATELINE_WORDS.sub(" ", line)
    # Month and weekday names are the dateline's own words.
    words = [
        w
        for w in re.findall(r"[^\W\d_]+", rest)
        if w.lower().rstrip(".") not in MONTHS and not WEEKDAY.match(w)
    ]
    return len(words) <= 2


def is_reading_time(line: str) -> bool:
    return bool(READING_TIME_LINE.match(line))


def _author_line(line: str, authors: list[str]) -> bool:
    """The byline repeated as a line: "Par Jane Doe", "Jane Doe, John Roe", "By: Jane Doe"."""
    if not authors or _words(line) > 12:
        return False
    known = {_key(a) for a in authors}
    names = clean_authors([line.lstrip("-–—•· ")])
    return bool(names) and all(_key(n) in known for n in names)


# Lowercase words allowed between the capitalised names of a byline.
NAME_JOINERS = frozenset(
    {"and", "et", "und", "y", "e", "ve", "i", "de", "du", "des", "van", "von", "der"}
    | {"da", "di", "del", "della", "la", "le", "bin", "binti", "al", "el", "ibn"}
)


def _byline_line(line: str) -> bool:
    """ "Par Jane Doe et John Roe", "By: AFP", "Von Bill MCCARTHY" — not "By the way"."""
    match = BYLINE_LINE.match(line)
    if not match or _words(line) > 8 or line.rstrip().endswith((".", "?", "!")):
        return False
    words = re.findall(r"[^\W\d_]+", line[match.end() - 1 :])
    return bool(words) and all(w[0].isupper() or w.lower() in NAME_JOINERS for w in words)


_SIGNATURE = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[\s'’.-]+[^\W\d_][^\W\d_'’.-]*){1,3}$")


def is_signature(line: str) -> bool:
    """A name alone on the last line ("Lê Phương"): capitalised words, no sentence."""
    if len(line) > 40 or not _SIGNATURE.match(line):
        return False
    words = re.findall(r"[^\W\d_]+", line)
    return 2 <= len(words) <= 4 and all(w[0].isupper() for w in words)


def clean_lines(
    text: str,
    titles: Iterable[str | None] = (),
    authors: Iterable[str] = (),
) -> tuple[str, list[str]]:
    """Drop the boilerplate lines outlets print around the body; return text and credits."""
    text, credits, _signed = clean_text(text, titles, authors)
    return text, credits


def clean_text(
    text: str,
    titles: Iterable[str | None] = (),
    authors: Iterable[str] = (),
    confirm_signature: Callable[[str], bool] | None = None,
) -> tuple[str, list[str], list[str]]:
    """(text, credits, signed): the cleaned body, the agencies credited in lines removed
    from it, and the bylines or signature removed from it (raw, for when the page's
    markup names no author).

    A name alone on the last line is taken for a signature only when the page has no
    author and `confirm_signature` (which looks at the page's markup) agrees.
    """
    title_keys = {_key(t) for t in titles if t and _key(t)}
    authors = [a for a in authors if a]
    lines: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        if AUTHOR_BOX_HEADING.match(line) and len(lines) >= 2:
            break  # an author box closes the article: what follows is the bio
        if (
            COUNTER_LINE.match(line)
            or SHARE_LINE.match(line)
            or _read_also(line)
            or (_copyright(line) and not credit_agencies(line))
            or (PHOTO_CREDIT_LINE.match(line) and _words(line) <= 15)
            or is_reading_time(line)
        ):
            continue
        lines.append(line)

    credits: list[str] = []
    signed: list[str] = []
    lines = _clean_head(lines, title_keys, authors, credits, signed)
    lines = _clean_tail(lines, authors, credits, signed, confirm_signature)
    # "© AFP" closing the text credits the agency (above); inside it, it credits a photo.
    lines = [line for line in lines if not _copyright(line)]
    return "\n".join(lines), credits, signed


def _copyright(line: str) -> bool:
    return _words(line) <= 40 and bool(COPYRIGHT_LINE.search(line))


def _read_also(line: str) -> bool:
    if _words(line) > 30:
        return False
    if READ_ALSO_LINE.match(line):
        return True
    # "ALSO READ Brace for bad weather", "LIRE AUSSI Le ministre…": the label in capitals.
    match = READ_ALSO_CAPS.match(line)
    return bool(match) and match.group(0).strip(" -–—•»").isupper()


def _clean_head(
    lines: list[str],
    title_keys: set[str],
    authors: list[str],
    credits: list[str],
    signed: list[str],
) -> list[str]:
    # The headline repeated at the top, and any kicker or section name above it.
    for index, line in enumerate(lines[:4]):
        if _key(line) in title_keys:
            if all(_words(above) <= SHORT for above in lines[:index]):
                lines = lines[index + 1 :]
            break
    # Byline, dateline, credit and header items above the body, or between the lead and
    # the body: dropped until the second real paragraph.
    kept: list[str] = []
    paragraphs = 0
    for index, line in enumerate(lines):
        if index >= HEAD_ZONE or paragraphs >= 2:
            kept.extend(lines[index:])
            break
        bare = line.lstrip("-–—•· ").strip()
        found = credit_agencies(bare)
        if found:
            add_credits(credits, found)
            continue
        if _byline_line(bare):
            signed.append(bare)
            continue
        if (
            is_date_line(bare)
            or _author_line(bare, authors)
            or _key(bare) in title_keys
            or (line.startswith("- ") and _words(bare) <= 8 and _metadata_item(bare))
        ):
            continue
        if _words(line) >= 12:
            paragraphs += 1
        kept.append(line)
    return kept


def _metadata_item(text: str) -> bool:
    """A list item of an article's header: "Übersetzung: AFP", "Source: AA", "3 min"."""
    label, colon, rest = text.partition(":")
    return bool(colon) and _words(label) <= 3 and 0 < _words(rest) <= 6


def _clean_tail(
    lines: list[str],
    authors: list[str],
    credits: list[str],
    signed: list[str],
    confirm_signature: Callable[[str], bool] | None = None,
) -> list[str]:
    # A tags block: a "Tags:" label followed by short items only.
    for index in range(len(lines) - 1, max(len(lines) - 25, -1), -1):
        if TAGS_LABEL.match(lines[index]) and all(_words(x) <= 5 for x in lines[index + 1 :]):
            lines = lines[:index]
            break
    signature = False
    tail_credits: list[str] = []  # read bottom-up, kept in page order
    while lines:
        line = lines[-1]
        bare = line.lstrip("-–—•· ").strip()
        found = credit_agencies(bare)
        if found:
            tail_credits[:0] = found
        elif _author_line(bare, authors) or is_date_line(bare):
            pass
        elif _byline_line(bare) or (
            not signature
            and not authors
            and confirm_signature is not None
            and len(lines) > 3
            and is_signature(bare)
            and confirm_signature(bare)
        ):
            signed.append(bare)
            signature = True
        else:
            break
        lines = lines[:-1]
    add_credits(credits, tail_credits)
    return lines


_SIGNATURE_MARKS = re.compile(
    r"author|autor|auteur|byline|sign|writer|name|yazar|right", re.IGNORECASE
)


def signature_in_markup(tree: lxml.html.HtmlElement, name: str) -> bool:
    """Is this name printed on the page the way signatures are (bold, right-aligned, or
    in an element whose class says author)?"""
    if '"' in name:
        return False
    for element in tree.xpath(f'//body//*[normalize-space(.)="{name}"]'):
        for node in (element, element.getparent()):
            if node is None:
                continue
            if node.tag in ("strong", "b"):
                return True
            marks = f"{node.get('class') or ''} {node.get('style') or ''}"
            if _SIGNATURE_MARKS.search(marks):
                return True
    return False
