"""Course owners (the authors of their lessons' statements). Never commits."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_learning_records.db.tables import Course


async def set_owner(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, since: datetime
) -> None:
    """Record the owner as of `since`; an older change arriving late never wins."""
    statement = pg_insert(Course).values(id=course_id, owner_id=owner_id, owner_since=since)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Course.id],
            set_={
                "owner_id": statement.excluded.owner_id,
                "owner_since": statement.excluded.owner_since,
            },
            where=Course.owner_since <= statement.excluded.owner_since,
        )
    )


async def owner_of(session: AsyncSession, *, course_id: UUID) -> UUID | None:
    course = await session.get(Course, course_id)
    return course.owner_id if course is not None else None
