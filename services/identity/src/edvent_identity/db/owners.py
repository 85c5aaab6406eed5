"""Queries on `course_owners`, the reference table fed by content's events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import CourseOwner


async def record_owner(
    session: AsyncSession, *, course_id: UUID, owner_id: UUID, changed_at: datetime
) -> None:
    """Upsert; an older fact (a redelivered created after an owner change) loses."""
    statement = insert(CourseOwner).values(
        course_id=course_id, owner_id=owner_id, changed_at=changed_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CourseOwner.course_id],
            set_={
                "owner_id": statement.excluded.owner_id,
                "changed_at": statement.excluded.changed_at,
            },
            where=CourseOwner.changed_at <= statement.excluded.changed_at,
        )
    )


async def count_owned(session: AsyncSession, *, owner_id: UUID) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(CourseOwner).where(CourseOwner.owner_id == owner_id)
        )
    ) or 0
