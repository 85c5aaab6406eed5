"""TEST DOUBLES ONLY: never shipped, never imported by src/.

`ScriptedProvider` wraps the real `local` provider and lets a test count calls, make
them fail and hold generation back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.adapters.providers.local import LocalProvider
from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.domain.notes import GeneratedNote, LessonSource


def provider() -> NotesProvider:
    """The real local provider: the happy path runs on it, not on a double."""
    return LocalProvider(dimensions=EMBEDDING_DIMENSIONS)


class ScriptedProvider:
    """Wraps a provider: counts calls; `fail_next` raises each given error once, in
    order; `fail_always` raises on every call."""

    def __init__(self, inner: NotesProvider) -> None:
        self.inner = inner
        self.generate_calls = 0
        self.embed_calls = 0
        self.fail_next: list[Exception] = []
        self.fail_always: Exception | None = None
        # When set, every embedding raises it (a search's question, a lesson's chunks).
        self.fail_embed: Exception | None = None
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
        self.fail_embed = None
        self.gate = None

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.embed_calls += 1
        if self.fail_embed is not None:
            raise self.fail_embed
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
