"""content.courses → who owns which course, in the consumer's inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.content import CourseCreated, CourseOwnerChanged
from edvent_events.envelope import Envelope
from edvent_identity.consumers import handlers
from edvent_identity.usecases import owners


@handlers.on(CourseCreated)
async def on_course_created(session: AsyncSession, envelope: Envelope[CourseCreated]) -> None:
    await owners.record_course_created(session=session, event=envelope.data)


@handlers.on(CourseOwnerChanged)
async def on_course_owner_changed(
    session: AsyncSession, envelope: Envelope[CourseOwnerChanged]
) -> None:
    await owners.record_owner_changed(session=session, event=envelope.data)
