"""Course ownership as content announces it (content.courses)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.content import CourseCreated, CourseOwnerChanged
from edvent_identity.db import owners as owners_db


async def record_course_created(*, session: AsyncSession, event: CourseCreated) -> None:
    await owners_db.record_owner(
        session, course_id=event.course_id, owner_id=event.owner_id, changed_at=event.created_at
    )


async def record_owner_changed(*, session: AsyncSession, event: CourseOwnerChanged) -> None:
    await owners_db.record_owner(
        session,
        course_id=event.course_id,
        owner_id=event.new_owner_id,
        changed_at=event.changed_at,
    )
