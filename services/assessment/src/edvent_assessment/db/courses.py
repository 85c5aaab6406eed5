"""The courses reference table. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import Course


async def owner_of(session: AsyncSession, course_id: UUID) -> UUID | None:
    owner: UUID | None = await session.scalar(select(Course.owner_id).where(Course.id == course_id))
    return owner


async def upsert(
    session: AsyncSession,
    *,
    course_id: UUID,
    owner_id: UUID,
    title: str,
    created_at: datetime | None = None,
    published_at: datetime | None = None,
) -> None:
    """Insert or refresh a course; a later event never forgets that it was published."""
    values = {"id": course_id, "owner_id": owner_id, "title": title, "published_at": published_at}
    if created_at is not None:
        values["created_at"] = created_at
    statement = insert(Course).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Course.id],
            set_={
                "owner_id": statement.excluded.owner_id,
                "title": statement.excluded.title,
                "published_at": func.coalesce(Course.published_at, statement.excluded.published_at),
                "updated_at": func.now(),
            },
        )
    )
