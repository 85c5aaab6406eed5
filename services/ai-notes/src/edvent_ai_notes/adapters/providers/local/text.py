"""Words, stems and sentences: the shared ground of the local embedder and summariser.

segtok (rule-based, no data files) splits sentences and words; Snowball stems English;
scikit-learn's English stop-word list marks function words. Nothing is downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from segtok.segmenter import split_multi
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_STEMMER = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """Lower-cased words (letters and digits; inner apostrophes kept)."""
    return _WORD.findall(normalise(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stop words, no one-letter words)."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1]


def sentences(text: str) -> list[str]:
    """The sentences of a paragraph, whitespace collapsed."""
    collapsed = " ".join(text.split())
    return [s.strip() for s in split_multi(collapsed) if s.strip()]
