"""Reading notes: one lesson's, and all notes naming a concept, as the caller may see
them (domain/access.py; lists filter in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.tables import ai_notes, courses, lessons
from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.domain.errors import NoteNotFound
from edvent_platform.cursor import PageKey


@dataclass(frozen=True, slots=True)
class NoteView:
    row: Any  # an ai_notes row
    # Whether the caller may read failure details (storage keys, provider errors).
    failure_details: bool


def _notes_query() -> Any:
    return select(ai_notes, *notes_db.lesson_facts_columns()).select_from(
        ai_notes.join(lessons, lessons.c.id == ai_notes.c.lesson_id).outerjoin(
            courses, courses.c.id == lessons.c.course_id
        )
    )


async def note(*, session: AsyncSession, actor: Actor, lesson_id: UUID) -> NoteView:
    row = (await session.execute(_notes_query().where(ai_notes.c.lesson_id == lesson_id))).first()
    if row is None:
        raise NoteNotFound(str(lesson_id))
    facts = notes_db.lesson_facts(row)
    access.check_note_visible(actor, facts)
    return NoteView(row=row, failure_details=access.sees_failure_details(actor, facts))


async def notes_naming(
    *, session: AsyncSession, actor: Actor, concept: str, limit: int, after: PageKey | None
) -> tuple[list[NoteView], PageKey | None]:
    """Notes the caller may see with a key concept called `concept` (any case), newest
    first; the page and the key of its last row when more may follow."""
    query = _notes_query().where(
        notes_db.concept_filter(concept),
        ai_notes.c.generated_at.is_not(None),
        notes_db.visible_lessons(access.note_filter(actor)),
    )
    if after is not None:
        query = query.where(
            or_(
                ai_notes.c.generated_at < after.created_at,
                and_(ai_notes.c.generated_at == after.created_at, ai_notes.c.id < after.id),
            )
        )
    rows = list(
        await session.execute(
            query.order_by(ai_notes.c.generated_at.desc(), ai_notes.c.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = PageKey(created_at=rows[-1].generated_at, id=rows[-1].id) if more else None
    views = [
        NoteView(
            row=r, failure_details=access.sees_failure_details(actor, notes_db.lesson_facts(r))
        )
        for r in rows
    ]
    return views, last
