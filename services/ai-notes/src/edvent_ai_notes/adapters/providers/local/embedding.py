"""Local embeddings: hashed word, word-pair and character n-gram features.

Each text becomes a sparse bag of features in three groups (stems, adjacent stem pairs,
character 3- to 5-grams of the words). Each feature counts log(1 + tf) times how rare
its word is in general English (wordfreq's frequency list, which ships inside its
wheel): an IDF that needs no corpus, so "photosynthesis" outweighs "energy". Features
are hashed into `dimensions` buckets with scikit-learn's `FeatureHasher` (MurmurHash3
with a fixed seed, so the same text gives the same vector in every process); each group
is normalised, weighted, and the sum L2-normalised. Stems and pairs match the words a
question shares with a passage; character n-grams let related forms ("photosynthetic",
"photosynthesis") and misspellings meet.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import wordfreq
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher

from edvent_ai_notes.adapters.providers.local.text import STOP_WORDS, stem, words


@dataclass(frozen=True, slots=True)
class EmbeddingWeights:
    """How much each feature group counts (tuned with `python -m bench.ai_notes_quality`)."""

    stems: float = 1.0
    pairs: float = 0.3
    chars: float = 0.5
    char_min: int = 3
    char_max: int = 5
    # Rarity of a word = max(floor, ceiling - Zipf frequency); Zipf runs from about 1
    # (rare) to 7.7 ("the"). A word missing from the list counts as Zipf 1.
    rarity_ceiling: float = 9.0
    rarity_floor: float = 0.5


@cache
def _frequencies() -> dict[str, float]:
    return dict(wordfreq.get_frequency_dict("en", wordlist="large"))


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common a lower-cased word is in English: log10 of its count per billion words."""
    frequency = _frequencies().get(word)
    return math.log10(frequency) + 9 if frequency else 1.0


@lru_cache(maxsize=65536)
def _char_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    """The word's character n-grams, `low` to `high` long, with a space either side, in
    order (shorter first); the embedder's hot loop, so each word is cut once."""
    padded = f" {word} "
    return tuple(
        padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)
    )


class HashedEmbedder:
    def __init__(self, *, dimensions: int, weights: EmbeddingWeights | None = None) -> None:
        if dimensions < 16:
            raise ValueError("dimensions must be at least 16")
        self.dimensions = dimensions
        self.weights = weights or EmbeddingWeights()
        # alternate_sign keeps inner products unbiased when features collide.
        self._hasher = FeatureHasher(n_features=dimensions, input_type="dict", alternate_sign=True)

    def _rarity(self, word: str) -> float:
        w = self.weights
        return max(w.rarity_floor, w.rarity_ceiling - zipf(word))

    def _groups(self, text: str) -> Iterator[dict[str, float]]:
        w = self.weights
        kept = [word for word in words(text) if word not in STOP_WORDS]
        stems: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        chars: Counter[str] = Counter()
        # One dict for every group's features, as before (a stem and a character n-gram
        # spelt alike share their rarity); the order of updates is kept, so are vectors.
        rarity: dict[str, float] = {}
        word_rarity: dict[str, float] = {}
        previous: str | None = None
        for word in kept:
            r = word_rarity.get(word)
            if r is None:  # never below 0, as a feature's rarity starts at 0
                r = word_rarity[word] = max(0.0, self._rarity(word))
            s = stem(word)
            stems[s] += 1
            rarity[s] = max(rarity.get(s, 0.0), r)
            if previous is not None:
                pairs[f"{previous} {s}"] += 1
                rarity[f"{previous} {s}"] = (rarity[previous] + rarity[s]) / 2
            previous = s
            for gram in _char_grams(word, w.char_min, w.char_max):
                chars[gram] += 1
                if rarity.get(gram, -1.0) < r:
                    rarity[gram] = r
        for counts in (stems, pairs, chars):
            yield {f: math.log1p(c) * rarity[f] for f, c in counts.items()}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        w = self.weights
        per_group: list[list[dict[str, float]]] = [[], [], []]
        for text in texts:
            for group, features in zip(per_group, self._groups(text), strict=True):
                group.append(features)
        total = np.zeros((len(texts), self.dimensions))
        for group, weight in zip(per_group, (w.stems, w.pairs, w.chars), strict=True):
            if weight == 0:
                continue
            matrix: sparse.csr_matrix = self._hasher.transform(group)
            part = matrix.toarray()
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            # Groups differ in size (a word has many n-grams): normalise each first
            # so the weights mean what they say.
            total += weight * part / norms
        norms = np.linalg.norm(total, axis=1)
        vectors: list[list[float]] = []
        for row, norm in zip(total, norms, strict=True):
            if norm == 0:
                # A text with no words at all: a fixed unit vector, never a zero one
                # (cosine distance to a zero vector is undefined).
                unit = np.zeros(self.dimensions)
                unit[0] = 1.0
                vectors.append(unit.tolist())
            else:
                vectors.append((row / norm).tolist())
        return vectors
