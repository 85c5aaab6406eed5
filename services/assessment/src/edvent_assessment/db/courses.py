"""The courses reference table. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import Course


async def by_id(session: AsyncSession, course_id: UUID) -> Course | None:
    return await session.get(Course, course_id)


async def upsert(
    session: AsyncSession,
    *,
    course_id: UUID,
    owner_id: UUID,
    title: str,
    created_at: datetime | None = None,
    published_at: datetime | None = None,
) -> None:
    """Insert or refresh a course. A redelivered `course.created` never forgets that it
    was published; a `course.published` (again, after an unpublish) sets the time."""
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
                "published_at": func.coalesce(statement.excluded.published_at, Course.published_at),
                "updated_at": func.now(),
            },
        )
    )


async def unpublish(session: AsyncSession, *, course_id: UUID) -> bool:
    """Back to a draft; False when the course is not known here."""
    return await _set(session, course_id, published_at=None)


async def archive(session: AsyncSession, *, course_id: UUID, archived_at: datetime) -> bool:
    """Archived for good (content has no way back); the first time is kept."""
    return await _set(
        session, course_id, archived_at=func.coalesce(Course.archived_at, archived_at)
    )


async def change_owner(session: AsyncSession, *, course_id: UUID, owner_id: UUID) -> bool:
    return await _set(session, course_id, owner_id=owner_id)


async def _set(session: AsyncSession, course_id: UUID, **values: Any) -> bool:
    result = await session.execute(
        update(Course)
        .where(Course.id == course_id)
        .values(**values, updated_at=func.now())
        .returning(Course.id)
    )
    return result.first() is not None
