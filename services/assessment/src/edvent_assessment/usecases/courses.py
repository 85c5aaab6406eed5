"""The courses reference table, from content.courses: who owns each course."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import courses as courses_db
from edvent_events.catalog.content import CourseCreated, CoursePublished


async def record_created(*, session: AsyncSession, event: CourseCreated) -> None:
    await courses_db.upsert(
        session,
        course_id=event.course_id,
        owner_id=event.owner_id,
        title=event.title,
        created_at=event.created_at,
    )


async def record_published(*, session: AsyncSession, event: CoursePublished) -> None:
    await courses_db.upsert(
        session,
        course_id=event.course_id,
        owner_id=event.owner_id,
        title=event.title,
        published_at=event.published_at,
    )
