"""Extraction benchmark: plain trafilatura against veille's extraction, in one run.

    python bench/bench_extract.py [--corpus ../shared/corpus] [--out DIR] [--worst 8]

The corpus is a folder of `NAME.html` pages, each with a `NAME.json` holding at least
`url`, and for scoring `body`, `title`, `date` (ISO 8601) and `authors`. Body text is scored
as in the corpus README (the Scrapinghub/Zyte article-extraction metric): 4-word shingles,
per-page normalised counts, corpus precision and recall as means over pages, F1 their
harmonic mean. Titles must match exactly (after NFC, invisible characters removed, spaces
normalised); dates must fall on the same calendar day; authors must be the same set of
names (see `author_names`).

With --out, veille's result for each page is written as NAME.txt (body text) and NAME.json
(`title`, `date`, `authors`, `credits`, `language`, ...) so that it can be scored by other
tools.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, without installing
    sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from archive.extract import extract  # noqa: E402

# -- the metric ---------------------------------------------------------------------------

INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text or "")
    if not tokens:
        return Counter()
    if len(tokens) < size:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def body_scores(truth: str, predicted: str) -> tuple[float | None, float]:
    """(precision, recall) of one page; precision is None when nothing was predicted."""
    true, pred = shingles(truth), shingles(predicted)
    matched = sum((true & pred).values())
    extra = sum((pred - true).values())
    missed = sum((true - pred).values())
    total = matched + extra + missed
    if total == 0:
        return None, 0.0
    matched, extra, missed = matched / total, extra / total, missed / total
    precision = matched / (matched + extra) if matched + extra else None
    recall = matched / (matched + missed) if matched + missed else 0.0
    return precision, recall


def norm_title(title: str | None) -> str:
    text = unicodedata.normalize("NFC", title or "").translate(INVISIBLE)
    return " ".join(text.split())


def title_match(truth: str | None, predicted: str | None) -> bool:
    return bool(truth) and norm_title(truth) == norm_title(predicted)


def _days(value: str | None) -> set[date]:
    """The day as written and, for a time with an offset, its UTC day."""
    if not value:
        return set()
    days: set[date] = set()
    try:
        days.add(date.fromisoformat(value[:10]))
    except ValueError:
        return set()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return days
    if moment.tzinfo is not None:
        days.add(moment.astimezone(UTC).date())
    return days


def date_match(truth: str | None, predicted: str | None) -> bool:
    if not truth or not predicted:
        return False
    try:
        day = date.fromisoformat(predicted[:10])
    except ValueError:
        return False
    return day in _days(truth)


BYLINE_WORD = re.compile(r"^\s*(?:par|by|von|de|por|di|av)\s+", re.IGNORECASE)


def author_names(values: list[str] | None) -> set[str]:
    """Names compared case-insensitively; a byline string is split on commas and "and"."""
    names: set[str] = set()
    for value in values or []:
        for part in re.split(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*", value):
            part = BYLINE_WORD.sub("", part)
            part = " ".join(unicodedata.normalize("NFC", part).split()).casefold()
            if part:
                names.add(part)
    return names


def author_match(truth: list[str] | None, predicted: list[str] | None) -> bool:
    return bool(truth) and author_names(truth) == author_names(predicted)


# -- the two extractors ---------------------------------------------------------------------


@dataclass
class Result:
    text: str = ""
    title: str | None = None
    date: str | None = None
    authors: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    language: str | None = None
    extra: dict = field(default_factory=dict)


def run_trafilatura(html: bytes, url: str | None) -> Result:
    """trafilatura's defaults: `extract` for the body, `extract_metadata` for the rest."""
    source = html.decode("utf-8", errors="replace")
    text = trafilatura.extract(source, url=url) or ""
    meta = trafilatura.extract_metadata(source, default_url=url)
    authors = [a.strip() for a in (meta.author or "").split(";") if a.strip()] if meta else []
    return Result(
        text=text,
        title=meta.title if meta else None,
        date=meta.date if meta else None,
        authors=authors,
        language=None,
    )


def run_veille(html: bytes, url: str | None) -> Result:
    """The archive's own extraction, given the raw bytes as a crawl would."""
    ex = extract(html, url or "", "text/html")
    return Result(
        text=ex.text,
        title=ex.title,
        date=ex.published,
        authors=ex.authors,
        credits=ex.credits,
        language=ex.language,
        extra={
            "is_article": ex.is_article,
            "reason": ex.reason,
            "published_source": ex.published_source,
            "modified": ex.modified,
            "language_confidence": getattr(ex, "language_confidence", None),
            "language_mismatch": getattr(ex, "language_mismatch", None),
            "word_count": ex.word_count,
            "warnings": getattr(ex, "warnings", None),
            "encoding": ex.encoding,
        },
    )


# -- running ------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    html: bytes
    truth: dict


def load_corpus(folder: Path) -> list[Page]:
    pages = []
    for html_path in sorted(folder.glob("*.html")):
        json_path = html_path.with_suffix(".json")
        truth = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {}
        pages.append(Page(html_path.stem, html_path.read_bytes(), truth))
    return pages


@dataclass
class Scores:
    name: str
    results: dict[str, Result]
    page: dict[str, dict]  # page name → {precision, recall, f1, title, date, authors}
    seconds: float
    runs: int

    def summary(self, pages: list[Page]) -> dict[str, float | int | None]:
        scored = [p for p in pages if p.truth.get("body")]
        precisions = [
            self.page[p.name]["precision"]
            for p in scored
            if self.page[p.name]["precision"] is not None
        ]
        recalls = [self.page[p.name]["recall"] for p in scored]
        precision = sum(precisions) / len(precisions) if precisions else 0.0
        recall = sum(recalls) / len(recalls) if recalls else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        page_f1 = [self.page[p.name]["f1"] for p in scored]
        return {
            "pages": len(pages),
            "scored": len(scored),
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "min_page_f1": min(page_f1) if page_f1 else None,
            "titles": sum(self.page[p.name]["title"] for p in pages),
            "titles_of": sum(1 for p in pages if p.truth.get("title")),
            "dates": sum(self.page[p.name]["date"] for p in pages),
            "dates_of": sum(1 for p in pages if p.truth.get("date")),
            "authors": sum(self.page[p.name]["authors"] for p in pages),
            "authors_of": sum(1 for p in pages if p.truth.get("authors")),
            "pages_per_second": len(pages) * self.runs / self.seconds if self.seconds else 0.0,
        }


def evaluate(
    name: str, run: Callable[[bytes, str | None], Result], pages: list[Page], repeat: int
) -> Scores:
    results: dict[str, Result] = {}
    started = time.perf_counter()
    for _ in range(repeat):
        for page in pages:
            results[page.name] = run(page.html, page.truth.get("url"))
    seconds = time.perf_counter() - started
    per_page = {}
    for page in pages:
        result = results[page.name]
        truth = page.truth
        precision, recall = (
            body_scores(truth["body"], result.text) if truth.get("body") else (None, 0.0)
        )
        p = precision or 0.0
        per_page[page.name] = {
            "precision": precision,
            "recall": recall,
            "f1": 2 * p * recall / (p + recall) if p + recall else 0.0,
            "title": title_match(truth.get("title"), result.title),
            "date": date_match(truth.get("date"), result.date),
            "authors": author_match(truth.get("authors"), result.authors),
        }
    return Scores(name, results, per_page, seconds, repeat)


def write_outputs(folder: Path, scores: Scores) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, result in scores.results.items():
        (folder / f"{name}.txt").write_text(result.text + "\n", encoding="utf-8")
        record = {
            "title": result.title,
            "date": result.date,
            "authors": result.authors,
            "credits": result.credits,
            "language": result.language,
            **result.extra,
        }
        (folder / f"{name}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def report(pages: list[Page], all_scores: list[Scores], worst: int) -> str:
    summaries = [s.summary(pages) for s in all_scores]
    head = f"{'':<26}" + "".join(f"{s.name:>14}" for s in all_scores)
    rows = [head]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"{label:<26}" + "".join(f"{c:>14}" for c in cells))

    row("body precision", [_fmt(s["precision"]) for s in summaries])
    row("body recall", [_fmt(s["recall"]) for s in summaries])
    row("body F1", [_fmt(s["f1"]) for s in summaries])
    row("lowest page F1", [_fmt(s["min_page_f1"]) for s in summaries])
    row("titles exact", [f"{s['titles']}/{s['titles_of']}" for s in summaries])
    row("dates (same day)", [f"{s['dates']}/{s['dates_of']}" for s in summaries])
    row("authors (same names)", [f"{s['authors']}/{s['authors_of']}" for s in summaries])
    row("pages per second", [f"{s['pages_per_second']:.1f}" for s in summaries])
    rows.append("")
    base, ours = all_scores[0], all_scores[-1]
    rows.append(f"Worst pages for {ours.name} (body F1; {base.name} in brackets):")
    ranked = sorted(
        (p for p in pages if p.truth.get("body")), key=lambda p: ours.page[p.name]["f1"]
    )
    for page in ranked[:worst]:
        mine, theirs = ours.page[page.name], base.page[page.name]
        flags = [k for k in ("title", "date", "authors") if not mine[k]]
        rows.append(
            f"  {mine['f1']:.3f} ({theirs['f1']:.3f})  P {_fmt(mine['precision'])}"
            f" R {mine['recall']:.3f}  {page.name}"
            + (f"  [wrong: {', '.join(flags)}]" if flags else "")
        )
    misses = [
        (page.name, key)
        for page in pages
        for key in ("title", "date")
        if page.truth.get(key) and not ours.page[page.name][key]
    ]
    if misses:
        rows.append("")
        rows.append(f"Title and date misses for {ours.name}:")
        for name, key in misses:
            truth = pages[[p.name for p in pages].index(name)].truth[key]
            got = getattr(ours.results[name], key)
            rows.append(f"  {key:<5} {name}: expected {truth!r}, got {got!r}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--out", default="", help="write veille's NAME.txt + NAME.json here")
    parser.add_argument("--worst", type=int, default=8, help="how many worst pages to list")
    parser.add_argument(
        "--repeat", type=int, default=3, help="passes over the corpus, for steadier timings"
    )
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    pages = load_corpus(corpus)
    if not pages:
        print(f"error: no NAME.html pages in {corpus}", file=sys.stderr)
        return 2
    repeat = max(1, args.repeat)
    # One warm-up page each, so that imports and caches do not count against either side.
    run_trafilatura(pages[0].html, pages[0].truth.get("url"))
    run_veille(pages[0].html, pages[0].truth.get("url"))
    all_scores = [
        evaluate("trafilatura", run_trafilatura, pages, repeat),
        evaluate("veille", run_veille, pages, repeat),
    ]
    print(f"Corpus: {corpus} ({len(pages)} pages, {repeat} timed passes)")
    print(f"trafilatura {trafilatura.__version__} defaults vs veille (archive.extract.extract)")
    print()
    print(report(pages, all_scores, args.worst))
    if args.out:
        write_outputs(Path(args.out), all_scores[-1])
        print(f"\nWrote {len(pages)} results (NAME.txt, NAME.json) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
