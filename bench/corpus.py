"""Generated French news text with a natural, skewed word distribution.

The benchmarks need a lot of text that indexes and searches like real news: a few
function words everywhere, a long tail of rare words and names, and words that
come in topics (an article about the Karabakh talks says "frontière" and "Érevan"
many times). Uniformly random words would make every search term equally rare and
every FTS doclist the same length, which flatters the index.

The model:
- the seed vocabulary is every word of the demo outlet's 42 articles
  (tests/fixtures/demo_outlet/articles.json), ranked by frequency, so "de", "la",
  "les" lead as in any French corpus;
- a syllable model learnt from those words adds tens of thousands of rarer words
  that look French (accents, endings in -tion, -ment, -ique...);
- tokens are drawn from a Zipf–Mandelbrot law over the ranks (p ∝ 1/(r + 2.7)^1.05);
- each article has one or two topics, small sets of mid-frequency words that make up
  a tenth of its tokens, which gives phrases and AND queries real co-occurrence.

Everything derives from one seed: the same seed gives the same text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLES = ROOT / "tests" / "fixtures" / "demo_outlet" / "articles.json"
WORD = re.compile(r"\w+(?:[-’']\w+)*")
SYLLABLE = re.compile(r"[^aeiouyàâäéèêëîïôöùûüœæ]*[aeiouyàâäéèêëîïôöùûüœæ]+", re.IGNORECASE)
ZIPF_S = 1.05
ZIPF_Q = 2.7
TOPIC_SHARE = 0.10


@dataclass
class Article:
    title: str
    paragraphs: list[str]
    words: int
    topics: list[int]


class FrenchText:
    def __init__(self, seed: int = 20240101, extra_words: int = 80_000, topics: int = 400):
        self.rng = np.random.default_rng(seed)
        articles = json.loads(SEED_ARTICLES.read_text(encoding="utf-8"))
        counts: Counter[str] = Counter()
        forms: dict[str, Counter[str]] = {}
        for article in articles:
            for text in [article["title"], *article["paragraphs"]]:
                for word in WORD.findall(text):
                    key = word.lower()
                    counts[key] += 1
                    forms.setdefault(key, Counter())[word] += 1
        # Keep the spelling the demo articles use most (Ankara, Érevan, but "la").
        seed_words = [forms[w].most_common(1)[0][0] for w, _ in counts.most_common()]
        self.vocabulary = np.array(seed_words + self._invent(seed_words, extra_words))
        ranks = np.arange(len(self.vocabulary), dtype=np.float64)
        weights = 1.0 / np.power(ranks + ZIPF_Q, ZIPF_S)
        self.cumulative = np.cumsum(weights / weights.sum())
        # Topics draw from the middle of the distribution: frequent enough to matter,
        # rare enough to mark an article (ranks 150 … 25,000).
        low, high = 150, min(25_000, len(self.vocabulary))
        self.topics = [self.rng.integers(low, high, size=40) for _ in range(topics)]

    def _invent(self, seed_words: list[str], count: int) -> list[str]:
        """New words from syllables of the seed words, more syllables for rarer words."""
        syllables = [s.lower() for w in seed_words for s in SYLLABLE.findall(w) if s.isalpha()]
        firsts = [SYLLABLE.findall(w.lower())[0] for w in seed_words if SYLLABLE.findall(w)]
        firsts = [s for s in firsts if s.isalpha()]
        known = {w.lower() for w in seed_words}
        invented: list[str] = []
        seen = set(known)
        while len(invented) < count:
            size = 2 + int(self.rng.integers(0, 3))
            parts = [firsts[int(self.rng.integers(len(firsts)))]]
            parts += [syllables[int(self.rng.integers(len(syllables)))] for _ in range(size - 1)]
            word = "".join(parts)
            if len(word) < 4 or word in seen:
                continue
            seen.add(word)
            # One in six rare words is a name: capitalised, as places and people are.
            invented.append(word.capitalize() if self.rng.random() < 0.16 else word)
        return invented

    def sample(self, size: int, topics: list[int] | None = None) -> np.ndarray:
        """Word indices: Zipf over the whole vocabulary, a share from the topics."""
        picks = np.searchsorted(self.cumulative, self.rng.random(size))
        picks = np.minimum(picks, len(self.vocabulary) - 1)
        if topics:
            from_topic = self.rng.random(size) < TOPIC_SHARE
            pool = np.concatenate([self.topics[t] for t in topics])
            picks[from_topic] = pool[self.rng.integers(0, len(pool), size=int(from_topic.sum()))]
        return picks

    def article(self, words: int | None = None) -> Article:
        """One article of 400–1,500 words: a title and paragraphs of sentences."""
        words = words or int(self.rng.integers(400, 1501))
        count = 1 + int(self.rng.random() < 0.4)
        topics = [int(t) for t in self.rng.integers(0, len(self.topics), size=count)]
        tokens = self.vocabulary[self.sample(words, topics)].tolist()
        paragraphs: list[str] = []
        sentence: list[str] = []
        paragraph: list[str] = []
        sentence_length = int(self.rng.integers(8, 30))
        sentences_left = int(self.rng.integers(2, 6))
        for token in tokens:
            sentence.append(token)
            if len(sentence) >= sentence_length:
                text = " ".join(sentence)
                paragraph.append(text[0].upper() + text[1:] + ".")
                sentence = []
                sentence_length = int(self.rng.integers(8, 30))
                sentences_left -= 1
                if sentences_left == 0:
                    paragraphs.append(" ".join(paragraph))
                    paragraph = []
                    sentences_left = int(self.rng.integers(2, 6))
        if sentence:
            text = " ".join(sentence)
            paragraph.append(text[0].upper() + text[1:] + ".")
        if paragraph:
            paragraphs.append(" ".join(paragraph))
        title_words = self.vocabulary[self.sample(int(self.rng.integers(6, 13)), topics)].tolist()
        title = " ".join(title_words)
        return Article(title[0].upper() + title[1:], paragraphs, words, topics)

    def rank_of(self, word: str) -> int:
        hits = np.nonzero(self.vocabulary == word)[0]
        return int(hits[0]) if len(hits) else -1
