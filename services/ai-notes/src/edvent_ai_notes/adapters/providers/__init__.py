"""LLM and embedding providers behind one small interface, chosen by configuration.

- `openai`: the openai SDK against OpenAI or any compatible server.
- `local`: no network, no key, no downloaded weights; the default when no key is set.
"""

# Named for what happened (ProviderUnavailable), like facts, not "...Error".
# ruff: noqa: N818

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from edvent_ai_notes.domain.notes import GeneratedNote, LessonSource


class ProviderError(Exception):
    """The provider could not produce an answer (the caller retries, then fails the note)."""


class ProviderUnavailable(ProviderError):
    """Transient: timeouts, connection errors, 429 and 5xx after the provider's own retries."""


class MalformedAnswer(ProviderError):
    """The model answered, but not with valid notes (bad JSON, missing fields, bad concepts)."""


class Unsummarisable(ProviderError):
    """The provider cannot make notes of this lesson and would fail the same way again
    (the local provider is deterministic): the note fails at once, without retries."""


class NotesProvider(Protocol):
    """Embeds text and writes notes. Implementations must not block the event loop."""

    @property
    def name(self) -> str:
        """`openai` or `local`."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector `embed` returns (the pgvector column's dimension)."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; vectors are L2-normalised."""
        ...

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        """A Markdown summary and key concepts for the lesson; raises `ProviderError`."""
        ...

    async def close(self) -> None: ...
