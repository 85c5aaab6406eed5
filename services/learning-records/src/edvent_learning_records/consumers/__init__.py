"""The events learning-records consumes, each turned into xAPI statements queued for
the LRS in the consumer's inbox transaction (README, "Statements").

- identity.users → `registered`; `user.deleted` stops the account's statements and
  voids those sent;
- content.courses → course owners (the authors of lesson statements);
- content.lessons → `shared` lessons;
- assessment.attempts → `attempted`, then `completed` or `terminated` with the score;
- ai-notes.notes → `updated` lessons.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.ai_notes import NotesGenerated
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.catalog.content import CourseCreated, CourseOwnerChanged, LessonPublished
from edvent_events.catalog.identity import UserDeleted, UserRegistered
from edvent_events.consumer import Handlers
from edvent_events.envelope import Envelope
from edvent_learning_records.domain.statements import Mapper
from edvent_learning_records.usecases import records


def handlers_for(mapper: Mapper, *, queued: Callable[[], None] = lambda: None) -> Handlers:
    """`queued` is told when statements were queued (it wakes the sender)."""
    handlers = Handlers()

    def _queued(count: int) -> None:
        if count:
            queued()

    @handlers.on(UserRegistered)
    async def on_registered(session: AsyncSession, envelope: Envelope[UserRegistered]) -> None:
        _queued(await records.record_registered(session, mapper=mapper, envelope=envelope))

    @handlers.on(UserDeleted)
    async def on_deleted(session: AsyncSession, envelope: Envelope[UserDeleted]) -> None:
        _queued(await records.record_erasure(session, mapper=mapper, envelope=envelope))

    @handlers.on(CourseCreated)
    async def on_course_created(session: AsyncSession, envelope: Envelope[CourseCreated]) -> None:
        await records.record_course_owner(session, envelope=envelope)

    @handlers.on(CourseOwnerChanged)
    async def on_owner_changed(
        session: AsyncSession, envelope: Envelope[CourseOwnerChanged]
    ) -> None:
        await records.record_course_owner(session, envelope=envelope)

    @handlers.on(LessonPublished)
    async def on_lesson_published(
        session: AsyncSession, envelope: Envelope[LessonPublished]
    ) -> None:
        _queued(await records.record_lesson_published(session, mapper=mapper, envelope=envelope))

    @handlers.on(AttemptCompleted)
    async def on_attempt(session: AsyncSession, envelope: Envelope[AttemptCompleted]) -> None:
        _queued(await records.record_attempt(session, mapper=mapper, envelope=envelope))

    @handlers.on(NotesGenerated)
    async def on_note(session: AsyncSession, envelope: Envelope[NotesGenerated]) -> None:
        _queued(await records.record_note(session, mapper=mapper, envelope=envelope))

    return handlers
