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
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.tables import (
    ai_notes,
    courses,
    lesson_chunks,
    lesson_tombstones,
    lessons,
)
from edvent_ai_notes.db.vectors import as_vector
from edvent_ai_notes.domain.access import LessonFacts, NoteFilter
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


async def _record_course(
    session: AsyncSession,
    *,
    course_id: UUID,
    title: str | None = None,
    owner_id: UUID | None = None,
    owner_at: datetime | None = None,
    published_at: datetime | None = None,
    unpublished_at: datetime | None = None,
    archived_at: datetime | None = None,
) -> None:
    """One upsert for every course event: each field keeps its newest value (the
    owner by the time it was set, publication times by `greatest`), so an event that
    arrives late or twice never undoes a newer one. A course first heard of from an
    unpublish or archive has no owner until its creation or publication arrives."""
    statement = pg_insert(courses).values(
        id=course_id,
        owner_id=owner_id,
        title=title or "",
        owner_changed_at=owner_at,
        published_at=published_at,
        unpublished_at=unpublished_at,
        archived_at=archived_at,
    )
    set_: dict[str, Any] = {"updated_at": func.now()}
    if owner_id is not None and owner_at is not None:
        newer = or_(courses.c.owner_changed_at.is_(None), courses.c.owner_changed_at <= owner_at)
        set_["owner_id"] = case((newer, owner_id), else_=courses.c.owner_id)
        set_["owner_changed_at"] = func.greatest(courses.c.owner_changed_at, owner_at)
    if title is not None:
        set_["title"] = title
    if published_at is not None:
        set_["published_at"] = func.greatest(courses.c.published_at, published_at)
    if unpublished_at is not None:
        set_["unpublished_at"] = func.greatest(courses.c.unpublished_at, unpublished_at)
    if archived_at is not None:
        # Archiving is for good (there is no unarchive event): the first time counts.
        set_["archived_at"] = func.least(courses.c.archived_at, archived_at)
    await session.execute(statement.on_conflict_do_update(index_elements=[courses.c.id], set_=set_))


async def record_course_created(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, title: str, at: datetime
) -> None:
    await _record_course(session, course_id=course_id, owner_id=owner_id, owner_at=at, title=title)


async def record_course_published(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, title: str, at: datetime
) -> None:
    await _record_course(
        session, course_id=course_id, owner_id=owner_id, owner_at=at, title=title, published_at=at
    )


async def record_course_unpublished(
    session: AsyncSession, *, course_id: UUID, at: datetime
) -> None:
    await _record_course(session, course_id=course_id, unpublished_at=at)


async def record_course_archived(session: AsyncSession, *, course_id: UUID, at: datetime) -> None:
    await _record_course(session, course_id=course_id, archived_at=at)


async def record_owner_changed(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, at: datetime
) -> None:
    await _record_course(session, course_id=course_id, owner_id=owner_id, owner_at=at)


async def _lock_lesson(session: AsyncSession, lesson_id: UUID) -> None:
    """Serialise every write about one lesson, even before its row exists: a delete
    and a publication racing must not leave the lesson alive behind its tombstone."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(str(lesson_id), 0)))
    )


async def is_deleted(session: AsyncSession, *, lesson_id: UUID) -> bool:
    found = await session.scalar(
        select(lesson_tombstones.c.lesson_id).where(lesson_tombstones.c.lesson_id == lesson_id)
    )
    return found is not None


async def record_lesson(session: AsyncSession, *, lesson: LessonRef) -> bool:
    """Keep the newest publication: an older event arriving late changes nothing. False
    (and nothing written) for a deleted lesson: the delete wins."""
    await _lock_lesson(session, lesson.lesson_id)
    if await is_deleted(session, lesson_id=lesson.lesson_id):
        return False
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
    return True


async def record_lesson_unpublished(
    session: AsyncSession, *, lesson_id: UUID, at: datetime
) -> None:
    """Hidden from students until a publication newer than `at` (see `LESSON_PUBLISHED`).
    A lesson never seen has nothing to hide."""
    await _lock_lesson(session, lesson_id)
    await session.execute(
        update(lessons)
        .where(lessons.c.id == lesson_id)
        .values(unpublished_at=func.greatest(lessons.c.unpublished_at, at), updated_at=func.now())
    )


async def delete_lesson(
    session: AsyncSession, *, lesson_id: UUID, course_id: UUID, at: datetime
) -> None:
    """The lesson, its note, chunks and jobs go (foreign keys cascade); the tombstone
    stays, so a late `lesson.published` does nothing."""
    await _lock_lesson(session, lesson_id)
    await session.execute(delete(lessons).where(lessons.c.id == lesson_id))
    await session.execute(
        pg_insert(lesson_tombstones)
        .values(lesson_id=lesson_id, course_id=course_id, deleted_at=at)
        .on_conflict_do_nothing(index_elements=[lesson_tombstones.c.lesson_id])
    )


# -- who sees what: domain/access.py's rule as SQL ------------------------------------
# Published: published, and not unpublished since. Courses join outer: a course never
# seen has null columns, so it is no one's and not published (a draft for ADMINs only).
LESSON_PUBLISHED = or_(
    lessons.c.unpublished_at.is_(None), lessons.c.unpublished_at < lessons.c.published_at
)
COURSE_PUBLISHED = and_(
    courses.c.published_at.is_not(None),
    or_(courses.c.unpublished_at.is_(None), courses.c.unpublished_at < courses.c.published_at),
)
COURSE_ARCHIVED = courses.c.archived_at.is_not(None)
LESSONS_WITH_COURSES = lessons.outerjoin(courses, courses.c.id == lessons.c.course_id)


def visible_lessons(rule: NoteFilter) -> ColumnElement[bool]:
    """Lessons (joined with `LESSONS_WITH_COURSES`) whose notes `rule` lets through."""
    if rule.everything:
        return true()
    everyone = and_(LESSON_PUBLISHED, COURSE_PUBLISHED, not_(COURSE_ARCHIVED))
    if rule.also_owner is not None:
        return or_(everyone, courses.c.owner_id == rule.also_owner)
    return everyone


# The same rule for the search's plain SQL over lessons `vl` left-joined with their
# courses `vc`: parameters :everything (boolean) and :also_owner (uuid or null), from
# `visibility_params`.
VISIBLE_LESSON = """
    (
        CAST(:everything AS boolean)
        OR vc.owner_id = CAST(:also_owner AS uuid)
        OR ((vl.unpublished_at IS NULL OR vl.unpublished_at < vl.published_at)
            AND vc.published_at IS NOT NULL
            AND (vc.unpublished_at IS NULL OR vc.unpublished_at < vc.published_at)
            AND vc.archived_at IS NULL)
    )
"""


def visibility_params(rule: NoteFilter) -> dict[str, Any]:
    return {"everything": rule.everything, "also_owner": rule.also_owner}


def lesson_facts_columns() -> list[ColumnElement[Any]]:
    return [
        courses.c.owner_id.label("owner_id"),
        COURSE_PUBLISHED.label("course_published"),
        COURSE_ARCHIVED.label("course_archived"),
        LESSON_PUBLISHED.label("lesson_published"),
    ]


def lesson_facts(row: Row[Any]) -> LessonFacts:
    return LessonFacts(
        owner_id=row.owner_id,
        course_published=bool(row.course_published),
        course_archived=bool(row.course_archived),
        lesson_published=bool(row.lesson_published),
    )


async def facts(session: AsyncSession, *, lesson_id: UUID) -> LessonFacts | None:
    row = (
        await session.execute(
            select(*lesson_facts_columns())
            .select_from(LESSONS_WITH_COURSES)
            .where(lessons.c.id == lesson_id)
        )
    ).first()
    return None if row is None else lesson_facts(row)


async def lesson(session: AsyncSession, *, lesson_id: UUID, lock: bool = False) -> LessonRef | None:
    """`lock`: the lesson's lock (`_lock_lesson`, always taken first, so writers about
    one lesson never wait on each other in opposite orders), then its row's."""
    if lock:
        await _lock_lesson(session, lesson_id)
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
      -- an unpublished lesson's text must not surface in a published lesson's notes
      AND (l.unpublished_at IS NULL OR l.unpublished_at < l.published_at)
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
            "vector": as_vector(vector),
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
