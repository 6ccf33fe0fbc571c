"""Language of an article: what the page declares, checked against what its text is.

Pages declare a language in `<html lang>`, `og:locale`, `Content-Language` or JSON-LD
`inLanguage`; that declaration is a template setting and is wrong on multilingual sites
often enough to check it. py3langid (a naive Bayes model over byte n-grams, ≈ 1 ms a
page on the first 1200 characters) gives a language with a probability. The declared
language stands unless the text is long enough and the model sure enough that it is
another one. `language_mismatch` flags articles whose language is not the one the outlet
is expected to publish in.
"""

from __future__ import annotations

import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 1200
MIN_WORDS = 5  # below this, the model's guess is noise
CONFIDENT = 0.90  # probability above which the text overrules the page's declaration
CONFIDENT_WORDS = 40  # ... for a text at least this long

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def _model() -> LanguageIdentifier:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def language_scores(text: str) -> list[tuple[str, float]]:
    """Every language with its probability for a text, best first ([] when too short)."""
    if len(text.split()) < MIN_WORDS:
        return []
    return [(code, float(p)) for code, p in _model().rank(text[:SAMPLE_CHARS])]


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, probability) for a text, or (None, 0.0) when it is too short."""
    scores = language_scores(text)
    return (scores[0][0], round(scores[0][1], 3)) if scores else (None, 0.0)


def base_code(value: str | None) -> str | None:
    """ "fr-FR", "fr_FR", "FR" → "fr"; anything that is not a language code → None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def choose_language(
    declared: str | None, text: str, expected: str | None = None
) -> tuple[str | None, str | None, float, bool]:
    """(language, source, confidence, mismatch) for an article.

    `source` is "page" when the declaration stands, "detected" when the text decided.
    `confidence` is the model's probability for the language chosen (0 when unknown).
    `mismatch` is True when the outlet's expected language is known and differs.
    """
    declared = base_code(declared)
    scores = language_scores(text)
    detected, probability = scores[0] if scores else (None, 0.0)
    sure = probability >= CONFIDENT and len(text.split()) >= CONFIDENT_WORDS
    if declared and (not sure or detected == declared):
        language, source = declared, "page"
        confidence = dict(scores).get(declared, 0.0)
    elif detected:
        language, source, confidence = detected, "detected", probability
    else:
        language, source, confidence = None, None, 0.0
    expected = base_code(expected)
    mismatch = bool(expected and language and language != expected)
    return language, source, round(confidence, 3), mismatch
