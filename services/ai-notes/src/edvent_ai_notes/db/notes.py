"""Statements over lessons, courses, notes and chunks. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Row,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.tables import ai_notes, courses, lesson_chunks, lessons, vector_literal
from edvent_ai_notes.domain.notes import Chunk, GeneratedNote, RetrievedChunk
from edvent_events.catalog.content import LessonPublished


@dataclass(frozen=True, slots=True)
class LessonRef:
    """A lesson as its newest `lesson.published` described it."""

    lesson_id: UUID
    course_id: UUID
    title: str
    order_index: int
    content_key: str
    content_sha256: str
    published_at: datetime

    @classmethod
    def published(cls, event: LessonPublished | Row[Any]) -> LessonRef:
        """From a `lesson.published` event, or a row with the same names (`lesson`)."""
        return cls(
            lesson_id=event.lesson_id,
            course_id=event.course_id,
            title=event.title,
            order_index=event.order_index,
            content_key=event.content_key,
            content_sha256=event.content_sha256,
            published_at=event.published_at,
        )


@dataclass(frozen=True, slots=True)
class NoteState:
    published_at: datetime  # of the newest publication seen
    lesson_sha256: str
    status: str | None  # None: no note row yet
    note_sha256: str | None


async def record_course(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, title: str
) -> None:
    statement = pg_insert(courses).values(id=course_id, owner_id=owner_id, title=title)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[courses.c.id],
            set_={"owner_id": owner_id, "title": title, "updated_at": func.now()},
        )
    )


async def course_owner(session: AsyncSession, *, course_id: UUID) -> UUID | None:
    owner: UUID | None = await session.scalar(
        select(courses.c.owner_id).where(courses.c.id == course_id)
    )
    return owner


async def record_lesson(session: AsyncSession, *, lesson: LessonRef) -> None:
    """Keep the newest publication: an older event arriving late changes nothing."""
    values = {
        "id": lesson.lesson_id,
        "course_id": lesson.course_id,
        "title": lesson.title,
        "order_index": lesson.order_index,
        "content_key": lesson.content_key,
        "content_sha256": lesson.content_sha256,
        "published_at": lesson.published_at,
    }
    statement = pg_insert(lessons).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[lessons.c.id],
            set_={k: v for k, v in values.items() if k != "id"} | {"updated_at": func.now()},
            where=lessons.c.published_at <= lesson.published_at,
        )
    )


async def lesson(session: AsyncSession, *, lesson_id: UUID, lock: bool = False) -> LessonRef | None:
    query = select(
        lessons.c.id.label("lesson_id"),
        *(c for c in lessons.c if c.name not in ("id", "updated_at")),
    ).where(lessons.c.id == lesson_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else LessonRef.published(row)


async def state(session: AsyncSession, *, lesson_id: UUID) -> NoteState | None:
    row = (
        await session.execute(
            select(
                lessons.c.published_at,
                lessons.c.content_sha256,
                ai_notes.c.status,
                ai_notes.c.content_sha256.label("note_sha256"),
            )
            .select_from(lessons.outerjoin(ai_notes, ai_notes.c.lesson_id == lessons.c.id))
            .where(lessons.c.id == lesson_id)
        )
    ).first()
    if row is None:
        return None
    return NoteState(
        published_at=row.published_at,
        lesson_sha256=row.content_sha256,
        status=row.status,
        note_sha256=row.note_sha256,
    )


async def add_pending(session: AsyncSession, *, lesson_id: UUID, sha256: str) -> None:
    """A first note for the lesson, pending; an existing note stays as readers know it
    until the new one replaces it whole."""
    await session.execute(
        pg_insert(ai_notes)
        .values(lesson_id=lesson_id, status="pending", content_sha256=sha256)
        .on_conflict_do_nothing(index_elements=[ai_notes.c.lesson_id])
    )


async def mark_regenerating(session: AsyncSession, *, lesson_id: UUID) -> None:
    await session.execute(
        update(ai_notes)
        .where(ai_notes.c.lesson_id == lesson_id)
        .values(status="pending", failure_reason=None, updated_at=func.now())
    )


async def mark_failed(session: AsyncSession, *, lesson_id: UUID, sha256: str, reason: str) -> None:
    """The note failed for this content; notes made from older content stay readable."""
    await session.execute(
        update(ai_notes)
        .where(ai_notes.c.lesson_id == lesson_id)
        .values(
            status="failed",
            failure_reason=reason[:2000],
            content_sha256=sha256,
            updated_at=func.now(),
        )
    )


async def store_ready(
    session: AsyncSession, *, lesson_id: UUID, sha256: str, note: GeneratedNote, at: datetime
) -> None:
    concepts = [{"name": c.name, "definition": c.definition} for c in note.key_concepts]
    values: dict[str, Any] = {
        "status": "ready",
        "failure_reason": None,
        "summary_markdown": note.summary_markdown,
        "key_concepts": concepts,
        "model": note.model,
        "content_sha256": sha256,
        "prompt_tokens": note.usage.prompt_tokens,
        "completion_tokens": note.usage.completion_tokens,
        "generated_at": at,
    }
    statement = pg_insert(ai_notes).values(lesson_id=lesson_id, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ai_notes.c.lesson_id], set_=values | {"updated_at": func.now()}
        )
    )


# Headings weigh more than the text they stand over.
SEARCH_VECTOR = func.setweight(
    func.to_tsvector(literal_column("'english'"), bindparam("headings", type_=Text)),
    literal_column("'A'"),
).op("||")(
    func.setweight(
        func.to_tsvector(literal_column("'english'"), bindparam("body", type_=Text)),
        literal_column("'B'"),
    )
)


async def replace_chunks(
    session: AsyncSession,
    *,
    lesson_id: UUID,
    course_id: UUID,
    chunks: Sequence[Chunk],
    vectors: Sequence[Sequence[float]],
) -> None:
    await session.execute(delete(lesson_chunks).where(lesson_chunks.c.lesson_id == lesson_id))
    if chunks:
        await session.execute(
            insert(lesson_chunks).values(search_vector=SEARCH_VECTOR),
            [
                {
                    "lesson_id": lesson_id,
                    "course_id": course_id,
                    "position": chunk.position,
                    "heading_path": list(chunk.heading_path),
                    "text": chunk.text,
                    "headings": " ".join(chunk.heading_path),
                    "body": chunk.text,
                    "embedding": vector,
                }
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
        )


RELATED = text(
    """
    SELECT c.lesson_id, l.title, c.heading_path, c.text,
           1 - (c.embedding <=> CAST(:vector AS vector)) AS score
    FROM lesson_chunks c JOIN lessons l ON l.id = c.lesson_id
    WHERE c.course_id = :course_id AND c.lesson_id <> :lesson_id
    ORDER BY c.embedding <=> CAST(:vector AS vector)
    LIMIT :limit
    """
)


async def related_chunks(
    session: AsyncSession,
    *,
    course_id: UUID,
    lesson_id: UUID,
    vector: Sequence[float],
    limit: int,
) -> list[RetrievedChunk]:
    rows = await session.execute(
        RELATED,
        {
            "course_id": course_id,
            "lesson_id": lesson_id,
            "vector": vector_literal(vector),
            "limit": limit,
        },
    )
    return [
        RetrievedChunk(
            lesson_id=str(r.lesson_id),
            lesson_title=r.title,
            heading_path=tuple(r.heading_path),
            text=r.text,
            score=float(r.score),
        )
        for r in rows
    ]


# The expression of the GIN index ix_ai_notes_key_concepts, spelled the same way.
LOWERED_CONCEPTS = cast(func.lower(cast(ai_notes.c.key_concepts, Text)), JSONB)


def concept_filter(concept: str) -> ColumnElement[bool]:
    """Notes with a key concept named `concept`, ignoring case, through the GIN index."""
    return LOWERED_CONCEPTS.contains([{"name": concept.strip().lower()}])
