"""Queries on `courses`. Callers own the transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db.tables import Course
from edvent_content.domain.access import CourseFilter
from edvent_platform.cursor import PageKey


async def create(session: AsyncSession, *, owner_id: UUID, title: str, description: str) -> Course:
    statement = (
        insert(Course)
        .values(owner_id=owner_id, title=title, description=description)
        .returning(Course)
    )
    course: Course = (await session.scalars(statement)).one()
    return course


async def by_id(
    session: AsyncSession, course_id: UUID, *, for_update: bool = False
) -> Course | None:
    statement = select(Course).where(Course.id == course_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def page(
    session: AsyncSession,
    *,
    visible: CourseFilter,
    owner_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> list[dict[str, Any]]:
    """Newest first; `limit` rows after `after`, among those `visible` allows, as
    {column: value}.

    Plain rows, not ORM objects: the catalogue is the busiest read, and loading ORM
    instances (and validating the answer from their attributes) was a quarter of its
    CPU."""
    statement = (
        select(*Course.__table__.columns)
        .order_by(Course.created_at.desc(), Course.id.desc())
        .limit(limit)
    )
    if not visible.everything:
        if visible.also_owner is not None:
            statement = statement.where(or_(_listed(), Course.owner_id == visible.also_owner))
        else:
            statement = statement.where(_listed())
    if owner_id is not None:
        statement = statement.where(Course.owner_id == owner_id)
    if after is not None:
        statement = statement.where(
            tuple_(Course.created_at, Course.id) < tuple_(after.created_at, after.id)
        )
    return [row._asdict() for row in await session.execute(statement)]


def _listed() -> ColumnElement[bool]:
    """`CourseFacts.listed` in SQL: published and not archived."""
    return and_(Course.is_published, Course.archived_at.is_(None))


async def owned_by(session: AsyncSession, *, owner_id: UUID) -> list[Course]:
    """Every course the user owns, oldest first (their data export)."""
    statement = (
        select(Course).where(Course.owner_id == owner_id).order_by(Course.created_at, Course.id)
    )
    return list(await session.scalars(statement))


async def change(session: AsyncSession, *, course_id: UUID, **values: Any) -> Course:
    statement = (
        update(Course)
        .where(Course.id == course_id)
        .values(**values, updated_at=func.now())
        .returning(Course)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def publish(session: AsyncSession, *, course_id: UUID) -> Course:
    return await change(session, course_id=course_id, is_published=True, published_at=func.now())


async def unpublish(session: AsyncSession, *, course_id: UUID) -> Course:
    return await change(session, course_id=course_id, is_published=False, published_at=None)


async def archive(session: AsyncSession, *, course_id: UUID) -> Course:
    return await change(session, course_id=course_id, archived_at=func.now())
