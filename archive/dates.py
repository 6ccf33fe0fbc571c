"""Dates as the archive stores them: ISO 8601, with time and offset when known."""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalise_date(value: object) -> str | None:
    """An ISO 8601 string for a date the page or a feed gave, or None if it is not one.

    A day without a time stays a day ("2024-05-14"): inventing midnight would
    claim a precision the source did not give.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if DAY_ONLY.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed.isoformat()


def day_of(value: str | None) -> date | None:
    """The calendar day of an ISO date string, as written (the outlet's local day)."""
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
