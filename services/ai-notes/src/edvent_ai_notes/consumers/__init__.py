"""The events ai-notes consumes.

- content.courses → the courses reference table: owner, published or draft, archived;
- content.lessons → the notes pipeline (`lesson.published`, a two-step handler: its
  slow part runs before the inbox transaction, its writes inside it), and the
  lessons' lifecycle (`lesson.unpublished` hides, `lesson.deleted` deletes and keeps
  a tombstone);
- identity.users → the users reference table: role changes, session cut-offs, erasure.

README.md, "Access and lifecycle", says which event feeds which decision.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.domain.access import content_key_belongs
from edvent_ai_notes.usecases import courses as courses_usecase
from edvent_ai_notes.usecases import exports as exports_usecase
from edvent_ai_notes.usecases import notes as notes_usecase
from edvent_ai_notes.usecases import users as users_usecase
from edvent_ai_notes.usecases.notes import Apply, Pipeline
from edvent_events.catalog.ai_notes import AiNotesUserDataExported
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
    LessonDeleted,
    LessonPublished,
    LessonUnpublished,
)
from edvent_events.catalog.identity import (
    UserDeleted,
    UserExportRequested,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.consumer import Handlers, RefusedEventError
from edvent_events.envelope import Envelope
from edvent_events.exports import send_part
from edvent_platform.db import transaction


def handlers_for(pipeline: Pipeline) -> Handlers:
    """The handlers of the app whose notes pipeline this is."""
    handlers = Handlers()

    @handlers.on(CourseCreated)
    async def on_course_created(session: AsyncSession, envelope: Envelope[CourseCreated]) -> None:
        await courses_usecase.record_created(session=session, event=envelope.data)

    @handlers.on(CoursePublished)
    async def on_course_published(
        session: AsyncSession, envelope: Envelope[CoursePublished]
    ) -> None:
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

    @handlers.prepared(LessonPublished)
    async def on_lesson_published(envelope: Envelope[LessonPublished]) -> Apply:
        event = envelope.data
        # The door: content stores a lesson's bodies under the lesson's own prefix; an
        # event naming any other object would have us read and publish it.
        if not content_key_belongs(
            key=event.content_key, course_id=event.course_id, lesson_id=event.lesson_id
        ):
            raise RefusedEventError(
                f"content_key {event.content_key!r} is outside "
                f"courses/{event.course_id}/lessons/{event.lesson_id}/"
            )
        lesson = LessonRef.published(event)
        # Committed before the slow part, so that the note reads `pending` meanwhile.
        async with transaction(pipeline.sessions) as session:
            settled = await notes_usecase.admit_notes(session=session, lesson=lesson)
        if settled is not None:
            return settled
        try:
            return await notes_usecase.prepare_notes(pipeline=pipeline, lesson=lesson)
        except notes_usecase.AttemptFailed as failed:
            # The note reads `failed` with the reason while the consumer retries.
            async with transaction(pipeline.sessions) as session:
                await failed.record(session)
            raise failed.error from None

    @handlers.on(LessonUnpublished)
    async def on_lesson_unpublished(
        session: AsyncSession, envelope: Envelope[LessonUnpublished]
    ) -> None:
        await courses_usecase.record_lesson_unpublished(session=session, event=envelope.data)

    @handlers.on(LessonDeleted)
    async def on_lesson_deleted(session: AsyncSession, envelope: Envelope[LessonDeleted]) -> None:
        await courses_usecase.record_lesson_deleted(session=session, event=envelope.data)

    @handlers.on(UserRoleChanged)
    async def on_user_role_changed(
        session: AsyncSession, envelope: Envelope[UserRoleChanged]
    ) -> None:
        await users_usecase.record_role_change(session=session, event=envelope.data)

    @handlers.on(UserSessionsRevoked)
    async def on_user_sessions_revoked(
        session: AsyncSession, envelope: Envelope[UserSessionsRevoked]
    ) -> None:
        await users_usecase.record_sessions_revoked(session=session, event=envelope.data)

    @handlers.on(UserDeleted)
    async def on_user_deleted(session: AsyncSession, envelope: Envelope[UserDeleted]) -> None:
        await users_usecase.record_deleted(session=session, event=envelope.data)

    @handlers.on(UserExportRequested)
    async def on_user_export_requested(
        session: AsyncSession, envelope: Envelope[UserExportRequested]
    ) -> None:
        request = envelope.data
        data = await exports_usecase.gather(session=session, user_id=request.user_id)
        if data is not None:
            await send_part(session, AiNotesUserDataExported, request=request, data=data)

    return handlers
