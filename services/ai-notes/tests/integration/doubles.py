"""TEST DOUBLES ONLY: never shipped, never imported by src/.

`HashingTestProvider` stands in for the real `local` provider
(edvent_ai_notes.adapters.providers.local, built separately) until it is merged:
`provider()` uses the real one when it can be imported. `ScriptedProvider` wraps either
and lets a test count calls and make them fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
from collections.abc import Sequence

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.domain.notes import GeneratedNote, KeyConcept, LessonSource

WORD = re.compile(r"[a-z][a-z0-9]+")
STOP_WORDS = (
    "the a an and or of to in is are was were be by for on with as at it this that from "
    "how what why which does do did can its their there these those into than then"
)
STOP = frozenset(STOP_WORDS.split(" "))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class HashingTestProvider:
    """Hashed word and bigram vectors, and notes made of each section's first sentence."""

    name = "test-double"

    def __init__(self, *, dimensions: int = EMBEDDING_DIMENSIONS) -> None:
        self._dimensions = dimensions

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        words = [_stem(w) for w in WORD.findall(text.lower()) if w not in STOP]
        vector = [0.0] * self._dimensions
        for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self._dimensions
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        sections: dict[tuple[str, ...], str] = {}
        for chunk in lesson.chunks:
            sections.setdefault(chunk.heading_path, chunk.text.split(". ")[0].strip())
        summary = "\n\n".join(
            f"{'#' * max(len(path), 1)} {path[-1] if path else lesson.title}\n\n{first}"
            for path, first in sections.items()
        )
        concepts = tuple(
            KeyConcept(name=path[-1], definition=first) for path, first in sections.items() if path
        )
        return GeneratedNote(
            summary_markdown=summary or lesson.title, key_concepts=concepts, model=self.name
        )

    async def close(self) -> None:
        pass


def provider() -> NotesProvider:
    try:
        from edvent_ai_notes.adapters.providers.local import LocalProvider
    except ImportError:
        return HashingTestProvider()
    real: NotesProvider = LocalProvider(dimensions=EMBEDDING_DIMENSIONS)
    return real


class ScriptedProvider:
    """Wraps a provider: counts calls; `fail_next` raises each given error once, in
    order; `fail_always` raises on every call."""

    def __init__(self, inner: NotesProvider) -> None:
        self.inner = inner
        self.generate_calls = 0
        self.embed_calls = 0
        self.fail_next: list[Exception] = []
        self.fail_always: Exception | None = None
        # When set, generation waits for it: a test can look at the note meanwhile.
        self.gate: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    def reset(self) -> None:
        self.generate_calls = self.embed_calls = 0
        self.fail_next = []
        self.fail_always = None
        self.gate = None

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.embed_calls += 1
        return await self.inner.embed(texts)

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        self.generate_calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_always is not None:
            raise self.fail_always
        if self.fail_next:
            raise self.fail_next.pop(0)
        return await self.inner.generate_notes(lesson=lesson)

    async def close(self) -> None:
        await self.inner.close()
