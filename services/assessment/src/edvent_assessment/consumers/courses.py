"""content.courses → the courses reference table, in the consumer's inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.consumers import handlers
from edvent_assessment.usecases import courses as courses_usecase
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
)
from edvent_events.envelope import Envelope


@handlers.on(CourseCreated)
async def on_course_created(session: AsyncSession, envelope: Envelope[CourseCreated]) -> None:
    await courses_usecase.record_created(session=session, event=envelope.data)


@handlers.on(CoursePublished)
async def on_course_published(session: AsyncSession, envelope: Envelope[CoursePublished]) -> None:
    await courses_usecase.record_published(session=session, event=envelope.data)


@handlers.on(CourseUnpublished)
async def on_course_unpublished(
    session: AsyncSession, envelope: Envelope[CourseUnpublished]
) -> None:
    await courses_usecase.record_unpublished(session=session, event=envelope.data)


@handlers.on(CourseArchived)
async def on_course_archived(session: AsyncSession, envelope: Envelope[CourseArchived]) -> None:
    await courses_usecase.record_archived(session=session, event=envelope.data)


@handlers.on(CourseOwnerChanged)
async def on_course_owner_changed(
    session: AsyncSession, envelope: Envelope[CourseOwnerChanged]
) -> None:
    await courses_usecase.record_owner_changed(session=session, event=envelope.data)
