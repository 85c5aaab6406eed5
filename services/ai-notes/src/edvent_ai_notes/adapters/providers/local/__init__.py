"""The `local` provider: embeddings and extractive notes computed on this machine.

No network, no key, no model weights, no data files: hashed n-gram embeddings
(`embedding.py`) and an extractive summariser (`notes.py`) built on scikit-learn,
networkx, markdown-it-py, segtok and Snowball. The work is CPU-bound, so it runs in a
worker thread and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from edvent_ai_notes.adapters.providers.local.embedding import EmbeddingWeights, HashedEmbedder
from edvent_ai_notes.adapters.providers.local.notes import MODEL, NoteLimits, write_notes
from edvent_ai_notes.domain.notes import GeneratedNote, LessonSource

__all__ = ["MODEL", "EmbeddingWeights", "LocalProvider", "NoteLimits"]


class LocalProvider:
    def __init__(
        self,
        dimensions: int,
        *,
        weights: EmbeddingWeights | None = None,
        limits: NoteLimits | None = None,
    ) -> None:
        self._embedder = HashedEmbedder(dimensions=dimensions, weights=weights)
        self._limits = limits or NoteLimits()

    @property
    def name(self) -> str:
        return "local"

    @property
    def dimensions(self) -> int:
        return self._embedder.dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._embedder.embed, list(texts))

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        return await asyncio.to_thread(write_notes, lesson, self._limits)

    async def close(self) -> None:
        return None
