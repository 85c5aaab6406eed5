"""Queries on `lessons`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db.tables import Course, Lesson


async def create(session: AsyncSession, **values: Any) -> Lesson:
    statement = insert(Lesson).values(**values).returning(Lesson)
    lesson: Lesson = (await session.scalars(statement)).one()
    return lesson


async def with_course(
    session: AsyncSession, lesson_id: UUID, *, for_update: bool = False
) -> tuple[Lesson, Course] | None:
    """The lesson and its course in one round trip. `for_update` locks the lesson for
    update and its course for share, so the course's state (archived, its owner) holds
    until commit: archiving or moving the course waits for this write, and it for them."""
    statement = select(Lesson, Course).join(Course).where(Lesson.id == lesson_id)
    if for_update:
        statement = statement.with_for_update(of=Lesson)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    lesson, course = row[0], row[1]
    if for_update:
        # Read again under the share lock: a change committed while we waited counts.
        locked = select(Course).where(Course.id == course.id).with_for_update(read=True)
        course = (await session.scalars(locked.execution_options(populate_existing=True))).one()
    return lesson, course


async def next_order_index(session: AsyncSession, *, course_id: UUID) -> int:
    highest = await session.scalar(
        select(func.max(Lesson.order_index)).where(Lesson.course_id == course_id)
    )
    return 0 if highest is None else highest + 1


async def order_index_taken(session: AsyncSession, *, course_id: UUID, order_index: int) -> bool:
    found = await session.scalar(
        select(Lesson.id).where(Lesson.course_id == course_id, Lesson.order_index == order_index)
    )
    return found is not None


async def page(
    session: AsyncSession,
    *,
    course_id: UUID,
    published_only: bool,
    limit: int,
    after: int | None,
) -> list[Lesson]:
    """In `order_index` order (unique per course, so a stable keyset)."""
    statement = (
        select(Lesson)
        .where(Lesson.course_id == course_id)
        .order_by(Lesson.order_index)
        .limit(limit)
    )
    if published_only:
        statement = statement.where(Lesson.published_at.is_not(None))
    if after is not None:
        statement = statement.where(Lesson.order_index > after)
    return list(await session.scalars(statement))


async def change(session: AsyncSession, *, lesson_id: UUID, **values: Any) -> Lesson:
    statement = (
        update(Lesson)
        .where(Lesson.id == lesson_id)
        .values(**values, updated_at=func.now())
        .returning(Lesson)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def remove(session: AsyncSession, *, lesson_id: UUID) -> datetime:
    """Delete the row; the time of the deleting transaction."""
    statement = delete(Lesson).where(Lesson.id == lesson_id).returning(func.now())
    deleted_at: datetime = (await session.scalars(statement)).one()
    return deleted_at


async def referenced_keys(session: AsyncSession) -> set[str]:
    """Every object key a lesson points at now."""
    return set(await session.scalars(select(Lesson.content_url)))
