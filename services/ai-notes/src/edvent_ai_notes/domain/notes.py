"""What the notes pipeline works with: lesson chunks and the notes generated from them.

Plain data, no I/O. The chunker (`domain/chunking.py`) produces `Chunk`s; a provider
(`adapters/providers/`) embeds them and turns a lesson plus retrieved context into a
`GeneratedNote`, which the use case validates and stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a lesson body, cut along its Markdown structure."""

    position: int  # 0-based order within the lesson
    heading_path: tuple[str, ...]  # the headings above the chunk, outermost first
    text: str


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    """A stored chunk chosen as context for generation, from this lesson or a related one."""

    lesson_id: str
    lesson_title: str
    heading_path: tuple[str, ...]
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class LessonSource:
    """Everything a provider is given to write notes for one lesson."""

    title: str
    markdown: str  # the whole body, as read from S3
    chunks: tuple[Chunk, ...]  # the body's chunks, in order
    # Per section (a heading path of this lesson), the chunks retrieved for it: the most
    # relevant ones of this lesson plus related chunks of other lessons of the course.
    context: tuple[RetrievedChunk, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyConcept:
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class GeneratedNote:
    summary_markdown: str
    key_concepts: tuple[KeyConcept, ...]
    model: str  # stored with the note and sent in `notes.generated`
    usage: Usage = field(default_factory=Usage)
