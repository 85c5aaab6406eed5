"""The courses reference table and lessons' lifecycle, from content's events, in the
consumer's inbox transaction. Reads apply the result (domain/access.py); nothing
here deletes a note except `lesson.deleted`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db import notes as notes_db
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
    LessonDeleted,
    LessonUnpublished,
)


async def record_created(*, session: AsyncSession, event: CourseCreated) -> None:
    await notes_db.record_course_created(
        session,
        course_id=event.course_id,
        owner_id=event.owner_id,
        title=event.title,
        at=event.created_at,
    )


async def record_published(*, session: AsyncSession, event: CoursePublished) -> None:
    await notes_db.record_course_published(
        session,
        course_id=event.course_id,
        owner_id=event.owner_id,
        title=event.title,
        at=event.published_at,
    )


async def record_unpublished(*, session: AsyncSession, event: CourseUnpublished) -> None:
    await notes_db.record_course_unpublished(
        session, course_id=event.course_id, at=event.unpublished_at
    )


async def record_archived(*, session: AsyncSession, event: CourseArchived) -> None:
    await notes_db.record_course_archived(session, course_id=event.course_id, at=event.archived_at)


async def record_owner_changed(*, session: AsyncSession, event: CourseOwnerChanged) -> None:
    await notes_db.record_owner_changed(
        session, course_id=event.course_id, owner_id=event.new_owner_id, at=event.changed_at
    )


async def record_lesson_unpublished(*, session: AsyncSession, event: LessonUnpublished) -> None:
    await notes_db.record_lesson_unpublished(
        session, lesson_id=event.lesson_id, at=event.unpublished_at
    )


async def record_lesson_deleted(*, session: AsyncSession, event: LessonDeleted) -> None:
    await notes_db.delete_lesson(
        session, lesson_id=event.lesson_id, course_id=event.course_id, at=event.deleted_at
    )
