"""The notes pipeline: body → chunks → embeddings → context → notes → one transaction.

`prepare_notes` does the slow part (S3, embeddings, generation) with no transaction
open and returns `apply(session)`, which writes the result in the caller's transaction:
the consumer's inbox transaction for `lesson.published`, a unit of its own for a
regenerate request. Writing is idempotent and all at once: the lesson's chunks are
replaced and its note upserted together, so readers see the old note or the new one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes.adapters.providers import (
    MalformedAnswer,
    NotesProvider,
    ProviderError,
    Unsummarisable,
)
from edvent_ai_notes.adapters.storage import LessonBodies
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.domain.chunking import chunk_markdown
from edvent_ai_notes.domain.errors import (
    BodyMissing,
    BodyTooLarge,
    NotAllowed,
    NoteNotFound,
    StorageUnavailable,
)
from edvent_ai_notes.domain.notes import (
    Chunk,
    GeneratedNote,
    KeyConcept,
    LessonSource,
    RetrievedChunk,
)
from edvent_events.catalog.ai_notes import KeyConcept as EventKeyConcept
from edvent_events.catalog.ai_notes import NotesGenerated
from edvent_events.outbox import add_event
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.ai_notes.pipeline")

Apply = Callable[[AsyncSession], Awaitable[None]]

MAX_CONCEPTS = 30
MAX_SUMMARY_CHARS = 50_000


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    max_lesson_bytes: int = 1024 * 1024
    chunk_max_chars: int = 1200
    chunk_overlap_chars: int = 150
    related_chunks_per_section: int = 2
    own_chunks_per_section: int = 2


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What the pipeline needs, built once (bootstrap.py)."""

    sessions: async_sessionmaker[AsyncSession]
    bodies: LessonBodies
    provider: NotesProvider
    options: PipelineOptions


async def nothing(session: AsyncSession) -> None:
    return None


async def prepare_notes(*, pipeline: Pipeline, lesson: LessonRef, force: bool = False) -> Apply:
    """The slow part for one publication of a lesson; raises when an attempt failed
    in a way worth retrying (provider, storage), after recording the note `failed`.
    A failure that would repeat (no body, too large a body, a lesson the provider
    cannot summarise) is settled at once: the note is written `failed`, nothing raised."""
    async with pipeline.sessions() as session:
        known = await notes_db.state(session, lesson_id=lesson.lesson_id)
    if known is not None and known.published_at > lesson.published_at:
        return nothing  # a newer publication was seen; this one is history
    if (
        not force
        and known is not None
        and known.status == "ready"
        and known.note_sha256 == lesson.content_sha256
    ):
        # The same body again: nothing to compute, the reference row may still change.
        return _record_only(lesson)
    async with transaction(pipeline.sessions) as session:
        await notes_db.record_lesson(session, lesson=lesson)
        await notes_db.add_pending(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256
        )
    try:
        body = await pipeline.bodies.read(key=lesson.content_key)
        if len(body) > pipeline.options.max_lesson_bytes:
            raise BodyTooLarge(
                f"the lesson body has {len(body)} bytes; notes are made of at most "
                f"{pipeline.options.max_lesson_bytes}"
            )
        chunks, vectors, note = await _compute(pipeline=pipeline, lesson=lesson, body=body)
    except (BodyMissing, BodyTooLarge, Unsummarisable) as exc:
        return _fail(lesson, failure_reason(exc))
    except (ProviderError, StorageUnavailable) as exc:
        async with transaction(pipeline.sessions) as session:
            await _fail(lesson, failure_reason(exc))(session)
        raise
    return _store(lesson, chunks, vectors, note)


async def _compute(
    *, pipeline: Pipeline, lesson: LessonRef, body: bytes
) -> tuple[list[Chunk], list[list[float]], GeneratedNote]:
    markdown = body.decode("utf-8", errors="replace")
    options = pipeline.options
    chunks, vectors = await embedded_chunks(
        provider=pipeline.provider, markdown=markdown, options=options
    )
    context = await _context(
        pipeline=pipeline, lesson=lesson, chunks=chunks, vectors=vectors, options=options
    )
    generated = await pipeline.provider.generate_notes(
        lesson=LessonSource(
            title=lesson.title, markdown=markdown, chunks=tuple(chunks), context=tuple(context)
        )
    )
    return chunks, vectors, validated(generated)


async def embedded_chunks(
    *, provider: NotesProvider, markdown: str, options: PipelineOptions
) -> tuple[list[Chunk], list[list[float]]]:
    """The body's chunks and one embedding each (of the chunk under its headings)."""
    chunks = chunk_markdown(
        markdown, max_chars=options.chunk_max_chars, overlap=options.chunk_overlap_chars
    )
    vectors = await provider.embed([embedding_text(c) for c in chunks]) if chunks else []
    if len(vectors) != len(chunks):
        raise MalformedAnswer(f"{len(vectors)} embeddings for {len(chunks)} chunks")
    return chunks, vectors


def failure_reason(error: Exception) -> str:
    match error:
        case Unsummarisable():
            return f"the lesson cannot be summarised: {error}"
        case BodyMissing() | BodyTooLarge():
            return str(error)
        case MalformedAnswer():
            return f"the model's answer was not valid notes: {error}"
        case StorageUnavailable():
            return f"lesson storage is unavailable: {error}"
        case _:
            return f"the notes provider failed: {error}"


def embedding_text(chunk: Chunk) -> str:
    """What is embedded: the chunk under its headings, so a section's words count."""
    path = " > ".join(chunk.heading_path)
    return f"{path}\n\n{chunk.text}" if path else chunk.text


async def _context(
    *,
    pipeline: Pipeline,
    lesson: LessonRef,
    chunks: Sequence[Chunk],
    vectors: Sequence[Sequence[float]],
    options: PipelineOptions,
) -> list[RetrievedChunk]:
    """Per section: its most central chunks, and the closest chunks of other lessons of
    the course."""
    sections: dict[tuple[str, ...], list[int]] = {}
    for index, chunk in enumerate(chunks):
        sections.setdefault(chunk.heading_path, []).append(index)
    context: list[RetrievedChunk] = []
    async with pipeline.sessions() as session:
        for path, members in sections.items():
            centre = _normalised(
                [sum(col) for col in zip(*(vectors[i] for i in members), strict=True)]
            )
            ranked = sorted(members, key=lambda i: -_dot(centre, vectors[i]))
            context.extend(
                RetrievedChunk(
                    lesson_id=str(lesson.lesson_id),
                    lesson_title=lesson.title,
                    heading_path=path,
                    text=chunks[i].text,
                    score=_dot(centre, vectors[i]),
                )
                for i in ranked[: options.own_chunks_per_section]
            )
            if options.related_chunks_per_section:
                context.extend(
                    await notes_db.related_chunks(
                        session,
                        course_id=lesson.course_id,
                        lesson_id=lesson.lesson_id,
                        vector=centre,
                        limit=options.related_chunks_per_section,
                    )
                )
    return context


def validated(note: GeneratedNote) -> GeneratedNote:
    """The note as it may be stored; `MalformedAnswer` when it is not fit to store."""
    summary = note.summary_markdown.strip()
    if not summary:
        raise MalformedAnswer("the summary is empty")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise MalformedAnswer(f"the summary is longer than {MAX_SUMMARY_CHARS} characters")
    concepts: list[KeyConcept] = []
    seen: set[str] = set()
    for concept in note.key_concepts:
        name, definition = concept.name.strip(), concept.definition.strip()
        if not name or not definition:
            raise MalformedAnswer("a key concept has no name or no definition")
        if name.lower() not in seen:
            seen.add(name.lower())
            concepts.append(KeyConcept(name=name, definition=definition))
    return GeneratedNote(
        summary_markdown=summary,
        key_concepts=tuple(concepts[:MAX_CONCEPTS]),
        model=note.model,
        usage=note.usage,
    )


def _record_only(lesson: LessonRef) -> Apply:
    async def apply(session: AsyncSession) -> None:
        await notes_db.record_lesson(session, lesson=lesson)

    return apply


async def _still_current(session: AsyncSession, lesson: LessonRef) -> bool:
    """Record the publication; whether its body is still the lesson's newest. The row
    lock orders this write after any other for the lesson."""
    await notes_db.record_lesson(session, lesson=lesson)
    current = await notes_db.lesson(session, lesson_id=lesson.lesson_id, lock=True)
    return current is not None and current.content_sha256 == lesson.content_sha256


def _fail(lesson: LessonRef, reason: str) -> Apply:
    async def apply(session: AsyncSession) -> None:
        if not await _still_current(session, lesson):
            return  # a newer body arrived meanwhile; its own run decides
        await notes_db.add_pending(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256
        )
        await notes_db.mark_failed(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256, reason=reason
        )
        logger.warning("notes for lesson %s failed: %s", lesson.lesson_id, reason)

    return apply


def _store(
    lesson: LessonRef, chunks: list[Chunk], vectors: list[list[float]], note: GeneratedNote
) -> Apply:
    async def apply(session: AsyncSession) -> None:
        if not await _still_current(session, lesson):
            return
        generated_at = datetime.now(UTC)
        await notes_db.replace_chunks(
            session,
            lesson_id=lesson.lesson_id,
            course_id=lesson.course_id,
            chunks=chunks,
            vectors=vectors,
        )
        await notes_db.store_ready(
            session,
            lesson_id=lesson.lesson_id,
            sha256=lesson.content_sha256,
            note=note,
            at=generated_at,
        )
        await add_event(
            session,
            NotesGenerated(
                lesson_id=lesson.lesson_id,
                course_id=lesson.course_id,
                model=note.model,
                key_concepts=[
                    EventKeyConcept(name=c.name, definition=c.definition) for c in note.key_concepts
                ],
                generated_at=generated_at,
            ),
        )

    return apply


# -- regenerate -------------------------------------------------------------------------


async def request_regeneration(
    *, session: AsyncSession, lesson_id: UUID, user_id: UUID, is_admin: bool
) -> LessonRef:
    """Mark the note pending again; the caller runs `regenerate` after committing."""
    lesson = await notes_db.lesson(session, lesson_id=lesson_id, lock=True)
    if lesson is None:
        raise NoteNotFound(str(lesson_id))
    if not is_admin:
        owner = await notes_db.course_owner(session, course_id=lesson.course_id)
        if owner != user_id:
            raise NotAllowed("Only the course's owner or an admin may regenerate its notes.")
    await notes_db.add_pending(session, lesson_id=lesson_id, sha256=lesson.content_sha256)
    await notes_db.mark_regenerating(session, lesson_id=lesson_id)
    return lesson


async def regenerate(*, pipeline: Pipeline, lesson: LessonRef) -> None:
    """Run the pipeline again for the lesson's current body; failures end in `failed`."""
    try:
        apply = await prepare_notes(pipeline=pipeline, lesson=lesson, force=True)
    except (ProviderError, StorageUnavailable):
        logger.warning("regenerating notes for lesson %s failed", lesson.lesson_id)
        return
    except Exception as exc:
        async with transaction(pipeline.sessions) as session:
            await _fail(lesson, f"{type(exc).__name__}: {exc}")(session)
        raise
    async with transaction(pipeline.sessions) as session:
        await apply(session)


# -- for the benchmarks: chunks of a lesson without S3, Kafka or generation --------------


async def ingest_lesson(
    session: AsyncSession,
    *,
    provider: NotesProvider,
    lesson: LessonRef,
    markdown: str,
    options: PipelineOptions | None = None,
) -> int:
    """Chunk, embed and store one lesson body in the caller's transaction; the number
    of chunks. Embedding runs before the first statement, so before the transaction."""
    chunks, vectors = await embedded_chunks(
        provider=provider, markdown=markdown, options=options or PipelineOptions()
    )
    await notes_db.record_lesson(session, lesson=lesson)
    await notes_db.replace_chunks(
        session,
        lesson_id=lesson.lesson_id,
        course_id=lesson.course_id,
        chunks=chunks,
        vectors=vectors,
    )
    return len(chunks)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
