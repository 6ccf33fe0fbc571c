"""The extraction benchmark: its metric, and a run over a two-page corpus."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT, load_module

bench = load_module(ROOT / "bench" / "bench_extract.py", "bench_extract")
FIXTURE = ROOT / "tests" / "fixtures" / "extraction" / "rules-outlet.html"


def test_shingles_are_four_word_windows_counted_as_a_multiset():
    assert bench.shingles("a b c d a b c d") == {
        ("a", "b", "c", "d"): 2,
        ("b", "c", "d", "a"): 1,
        ("c", "d", "a", "b"): 1,
        ("d", "a", "b", "c"): 1,
    }
    assert bench.shingles("deux mots") == {("deux", "mots"): 1}
    assert bench.shingles("") == {}


def test_page_scores_are_normalised_per_page():
    truth = "one two three four five six"
    assert bench.body_scores(truth, truth) == (1.0, 1.0)
    precision, recall = bench.body_scores(truth, truth + " seven eight")
    assert recall == 1.0 and precision == pytest.approx(3 / 5)
    assert bench.body_scores(truth, "") == (None, 0.0)


def test_titles_dates_and_authors_match_as_the_corpus_readme_says():
    assert bench.title_match("Le\u00ad titre  ", "Le titre")
    assert not bench.title_match("Le titre", "Le titre | Site")
    assert bench.date_match("2024-05-14T23:30:00-02:00", "2024-05-15")  # the UTC day
    assert bench.date_match("2024-05-14T23:30:00-02:00", "2024-05-14T10:00:00+03:00")
    assert not bench.date_match("2024-05-14", "2024-05-15")
    assert bench.author_match(["Par Jane Doe, John Roe"], ["John Roe", "Jane Doe"])
    assert not bench.author_match(["Jane Doe"], [])


def test_corpus_precision_counts_only_pages_with_a_prediction():
    pages = [bench.Page("a", b"", {"body": "w x y z"}), bench.Page("b", b"", {"body": "w x y z"})]
    scores = bench.Scores(
        "x",
        {},
        {
            "a": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "title": 1, "date": 1, "authors": 0},
            "b": {"precision": None, "recall": 0.0, "f1": 0.0, "title": 0, "date": 0, "authors": 0},
        },
        1.0,
        1,
    )
    summary = scores.summary(pages)
    assert summary["precision"] == 1.0 and summary["recall"] == 0.5
    assert summary["f1"] == pytest.approx(2 / 3)


def test_a_run_prints_both_columns_and_writes_the_results(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURE, corpus / "levant.html")
    (corpus / "levant.json").write_text(
        json.dumps(
            {
                "url": "https://lelevant.example/2024/03/12/mersin/",
                "title": "Le port de Mersin bat un record de conteneurs",
                "date": "2024-03-12T08:15:00+03:00",
                "authors": ["Deniz Korkmaz"],
                "body": "Le port de Mersin, premier port à conteneurs de la côte méditerranéenne",
            }
        ),
        encoding="utf-8",
    )
    # A page with no ground truth is extracted and written, just not scored.
    shutil.copy(FIXTURE, corpus / "unscored.html")
    out = tmp_path / "out"
    assert bench.main(["--corpus", str(corpus), "--out", str(out), "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    assert "trafilatura" in printed and "veille" in printed
    for label in ("body F1", "titles exact", "dates (same day)", "authors", "pages per second"):
        assert label in printed
    assert "Worst pages" in printed
    result = json.loads((out / "levant.json").read_text(encoding="utf-8"))
    assert result["title"] == "Le port de Mersin bat un record de conteneurs"
    assert result["date"] == "2024-03-12T08:15:00+03:00"
    assert set(result) >= {"title", "date", "authors", "credits", "language"}
    assert "premier port à conteneurs" in (out / "levant.txt").read_text(encoding="utf-8")
    assert (out / "unscored.txt").exists()


def test_an_empty_corpus_is_an_error(tmp_path, capsys):
    assert bench.main(["--corpus", str(tmp_path)]) == 2
    assert "no NAME.html" in capsys.readouterr().err
