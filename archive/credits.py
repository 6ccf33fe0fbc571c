"""Agency credits: the wire service an outlet names when it relays a dispatch.

Outlets such as turquie2023.com end relayed copy with a bare credit line
("AA", "TRT FR", "Avec AFP"). The line is not prose, so it leaves the text and
becomes a credit; an agency merely mentioned in a sentence stays where it is.
"""

from __future__ import annotations

import re

# Credit forms as printed → the agency's name. Keys are lowercase.
AGENCIES: dict[str, str] = {
    "aa": "Anadolu",
    "anadolu": "Anadolu",
    "agence anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "anadolu ajansı": "Anadolu",
    "trt": "TRT",
    "trt fr": "TRT",
    "trt français": "TRT",
    "trt francais": "TRT",
    "trt world": "TRT",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "reuters": "Reuters",
    "ap": "AP",
    "associated press": "AP",
    "sputnik": "Sputnik",
    "xinhua": "Xinhua",
    "ria novosti": "RIA Novosti",
    "tass": "TASS",
    "aps": "APS",
    "map": "MAP",
    "tap": "TAP",
    "dpa": "DPA",
    "ansa": "ANSA",
    "efe": "EFE",
    "irna": "IRNA",
    "belga": "Belga",
    "ats": "ATS",
}

_NAMES = sorted(AGENCIES, key=len, reverse=True)
_AGENCY = "|".join(re.escape(name) for name in _NAMES)
# "AA", "(AFP)", "Avec AFP", "Source : AA", "AA / TRT FR", "— AFP"
CREDIT_LINE = re.compile(
    rf"^\s*[-–—(]?\s*(?:(?:avec|source|sources|agence|agences|with|©)\s*:?\s*)?"
    rf"((?:{_AGENCY})(?:\s*(?:/|,|et|and|&)\s*(?:{_AGENCY}))*)\s*\)?\.?\s*$",
    re.IGNORECASE,
)


def credit_agencies(line: str) -> list[str]:
    """Agencies named by a bare credit line, or [] if the line is anything else."""
    match = CREDIT_LINE.match(line)
    if not match:
        return []
    parts = re.split(r"\s*(?:/|,|\bet\b|\band\b|&)\s*", match.group(1), flags=re.IGNORECASE)
    agencies: list[str] = []
    for part in parts:
        name = AGENCIES.get(part.strip().lower())
        if name and name not in agencies:
            agencies.append(name)
    return agencies


def split_credit_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove bare credit lines at the start or end of the body; return (lines, credits)."""
    credits: list[str] = []

    def take(line: str) -> bool:
        found = credit_agencies(line)
        for name in found:
            if name not in credits:
                credits.append(name)
        return bool(found)

    while lines and take(lines[-1]):
        lines = lines[:-1]
    while lines and take(lines[0]):
        lines = lines[1:]
    return lines, credits
