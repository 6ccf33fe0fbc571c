"""Agency credits: the wire service an outlet names when it relays a dispatch.

Outlets such as turquie2023.com end relayed copy with a bare credit line ("AA",
"TRT FR", "Avec AFP", "(Reuters)"), sign it with the agency as byline ("Par AFP",
"Von dpa"), open it with a wire dateline ("ANKARA (AA) -") or name the agency as the
author in their JSON-LD. Each of these becomes a credit, normalised to the agency's
name. A bare credit line is not prose, so it leaves the text; a sentence that merely
mentions an agency stays where it is, and so does a dateline that opens a paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Credit forms as printed → the agency's name. Keys are lowercase.
AGENCIES: dict[str, str] = {
    "aa": "Anadolu",
    "anadolu": "Anadolu",
    "agence anadolu": "Anadolu",
    "l'agence anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "anadolu ajansı": "Anadolu",
    "anadolu ajansi": "Anadolu",
    "agencia anadolu": "Anadolu",
    "trt": "TRT",
    "trt fr": "TRT",
    "trt français": "TRT",
    "trt francais": "TRT",
    "trt world": "TRT",
    "trt haber": "TRT",
    "trt afrika": "TRT",
    "trt deutsch": "TRT",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "l'agence france-presse": "AFP",
    "afp deutschland": "AFP",
    "reuters": "Reuters",
    "thomson reuters": "Reuters",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "sputnik": "Sputnik",
    "sputnik afrique": "Sputnik",
    "ria novosti": "RIA Novosti",
    "tass": "TASS",
    "itar-tass": "TASS",
    "xinhua": "Xinhua",
    "agence xinhua": "Xinhua",
    "xinhua news agency": "Xinhua",
    "新华社": "Xinhua",
    "dpa": "DPA",
    "deutsche presse-agentur": "DPA",
    "apa": "APA",
    "efe": "EFE",
    "agencia efe": "EFE",
    "europa press": "Europa Press",
    "ansa": "ANSA",
    "kyodo": "Kyodo",
    "yonhap": "Yonhap",
    "irna": "IRNA",
    "mena": "MENA",
    "wafa": "WAFA",
    "aps": "APS",
    "map": "MAP",
    "tap": "TAP",
    "ats": "ATS",
    "keystone-ats": "ATS",
    "belga": "Belga",
    "anp": "ANP",
    "pap": "PAP",
    "upi": "UPI",
    "dha": "DHA",
    "demirören haber ajansı": "DHA",
    "iha": "İHA",
    "İha": "İHA",
    "ihlas haber ajansı": "İHA",
    "ani": "ANI",
    "pti": "PTI",
    "bloomberg": "Bloomberg",
}

_NAMES = sorted(AGENCIES, key=len, reverse=True)
_AGENCY = "|".join(re.escape(name) for name in _NAMES)
_JOIN = r"\s*(?:/|,|\+|&|\bet\b|\band\b|\bund\b|\bve\b|\by\b|\be\b)\s*"
# Author initials some outlets append to the agencies ("dpa/AFP/jw").
_INITIALS = r"[a-z]{1,3}"
_LEAD = (
    r"(?:avec|source|sources|agence|agences|with|via|from|mit material von|mit|quelle|kaynak|"
    r"fuente|fonte|fonti|источник|d'après|selon|©|\(c\)|credit|crédit)"
)
# An outlet naming itself before the agencies: "(FRANCE 24 with AFP, REUTERS)", "Le Monde avec AFP".
_OUTLET_WITH = r"(?:[\w’'.&-]+\s+){1,4}?(?:with|avec|mit|con|com|ile|ve|and|et|\+)\s+"
# "AA", "(AFP)", "Avec AFP", "Source : AA", "AA / TRT FR", "— AFP", "dpa/AFP/jw", "Kaynak: AA"
CREDIT_LINE = re.compile(
    rf"^\s*[-–—(\[]?\s*(?:{_LEAD}\s*:?\s*|{_OUTLET_WITH})?"
    rf"((?:{_AGENCY})(?:{_JOIN}(?:{_AGENCY}|{_INITIALS}(?=\s*[)\].]?\s*$|/)))*)"
    rf"\s*[)\]]?\.?\s*$",
    re.IGNORECASE,
)
# A wire dateline opening the text: "ANKARA (AA) -", "ISTANBUL, 14 mai (Reuters) —".
DATELINE = re.compile(
    rf"^[^\n()]{{0,60}}\(\s*((?:{_AGENCY})(?:{_JOIN}(?:{_AGENCY}))*)\s*\)\s*[-–—:]",
    re.IGNORECASE,
)


# Codes that are also everyday words ("Map", "Tap"): only credits when printed in capitals.
CAPITALS_ONLY = {"map", "tap", "ani", "pap", "apa", "upi", "ats", "aps", "anp", "mena", "wafa"}


def agency_name(text: str) -> str | None:
    """The agency a name stands for ("Agence France-Presse" → "AFP"), or None."""
    printed = " ".join(unicodedata.normalize("NFC", text).split()).strip(" .()[]-–—:")
    key = printed.lower().replace("’", "'")
    if key in CAPITALS_ONLY and not printed.isupper():
        return None
    return AGENCIES.get(key)


def _split_agencies(group: str) -> list[str]:
    found: list[str] = []
    for part in re.split(_JOIN, group, flags=re.IGNORECASE):
        name = agency_name(part)
        if name and name not in found:
            found.append(name)
    return found


def credit_agencies(line: str) -> list[str]:
    """Agencies named by a bare credit line, or [] if the line is anything else."""
    if len(line) > 80:
        return []
    match = CREDIT_LINE.match(line)
    if not match:
        return []
    return _split_agencies(match.group(1))


def dateline_agencies(text: str) -> list[str]:
    """Agencies named in a wire dateline at the start of the text ("ANKARA (AA) - …")."""
    match = DATELINE.match(text[:120])
    return _split_agencies(match.group(1)) if match else []


def split_credit_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove bare credit lines at the start or end of the body; return (lines, credits)."""
    tail: list[list[str]] = []
    while lines and credit_agencies(lines[-1]):
        tail.insert(0, credit_agencies(lines[-1]))
        lines = lines[:-1]
    head: list[list[str]] = []
    while lines and credit_agencies(lines[0]):
        head.append(credit_agencies(lines[0]))
        lines = lines[1:]
    found = [name for names in (*head, *tail) for name in names]
    return lines, add_credits([], found)  # in the order they appear on the page


def add_credits(credits: list[str], names: Iterable[str]) -> list[str]:
    """Append agencies not yet credited, keeping the order they were found in."""
    for name in names:
        if name and name not in credits:
            credits.append(name)
    return credits


def split_byline(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Separate people from agencies in a byline: (names, agencies).

    "Par AFP" → ([], ["AFP"]); "Jane Doe (Reuters)" → (["Jane Doe"], ["Reuters"]);
    "AFP, MANILA" → ([], ["AFP"]) (a capitalised place next to an agency is a dateline).
    """
    people: list[str] = []
    agencies: list[str] = []
    for name in names:
        inner = re.findall(r"\(([^)]{1,40})\)", name)
        found = [a for a in (agency_name(i) for i in inner) if a]
        if found:
            add_credits(agencies, found)
            name = re.sub(r"\s*\([^)]{1,40}\)", "", name)
        agency = agency_name(name)
        if agency:
            add_credits(agencies, [agency])
        else:
            people.append(name)
    if agencies:
        # In "AFP, MANILA" the second part is where the dispatch was filed, not a person.
        people = [p for p in people if not (p.isupper() and len(p.split()) <= 2)]
    return people, agencies
