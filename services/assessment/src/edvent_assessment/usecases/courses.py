"""The courses reference table, from content.courses: who owns each course, and whether
students see it. Every access decision about an exam reads this row (`domain.access`).

- `course.created`: the course and its owner (a draft: students see none of its exams).
- `course.published`: its published exams are open to students.
- `course.unpublished`: a draft again; its exams are hidden from students again (their
  attempts stay readable to their students).
- `course.archived`: hidden from students, and its exams take no new attempts; attempts,
  grades and analytics stay readable to those who could read them, and `review:
  after_close` answers become visible (the exam is closed).
- `course.owner_changed`: the new owner manages its exams, the old one no longer.
An event about a course never heard of is skipped: the course's own `course.created`
comes first on its partition, so there is nothing to apply it to.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import courses as courses_db
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
)

logger = logging.getLogger("edvent.assessment.courses")


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


async def record_unpublished(*, session: AsyncSession, event: CourseUnpublished) -> None:
    if not await courses_db.unpublish(session, course_id=event.course_id):
        logger.warning("course.unpublished for unknown course %s; skipped", event.course_id)


async def record_archived(*, session: AsyncSession, event: CourseArchived) -> None:
    if not await courses_db.archive(
        session, course_id=event.course_id, archived_at=event.archived_at
    ):
        logger.warning("course.archived for unknown course %s; skipped", event.course_id)


async def record_owner_changed(*, session: AsyncSession, event: CourseOwnerChanged) -> None:
    if not await courses_db.change_owner(
        session, course_id=event.course_id, owner_id=event.new_owner_id
    ):
        logger.warning("course.owner_changed for unknown course %s; skipped", event.course_id)
