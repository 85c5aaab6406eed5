"""Reading notes: one lesson's, and all notes naming a concept."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.tables import ai_notes
from edvent_ai_notes.domain.errors import NoteNotFound
from edvent_platform.cursor import PageKey


async def note(*, session: AsyncSession, lesson_id: UUID) -> Any:
    row = (await session.execute(select(ai_notes).where(ai_notes.c.lesson_id == lesson_id))).first()
    if row is None:
        raise NoteNotFound(str(lesson_id))
    return row


async def notes_naming(
    *, session: AsyncSession, concept: str, limit: int, after: PageKey | None
) -> tuple[list[Any], PageKey | None]:
    """Notes with a key concept called `concept` (any case), newest first; the page's
    rows and the key of its last row when more may follow."""
    query = select(ai_notes).where(
        notes_db.concept_filter(concept), ai_notes.c.generated_at.is_not(None)
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
    return rows, last
