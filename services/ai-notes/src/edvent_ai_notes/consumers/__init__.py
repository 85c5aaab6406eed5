"""The events ai-notes consumes.

- content.courses → the courses reference table (who owns a course);
- content.lessons → the notes pipeline, as a two-step handler: its slow part (S3,
  embeddings, generation) runs before the inbox transaction, its writes inside it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.usecases import notes as notes_usecase
from edvent_ai_notes.usecases.notes import Apply, Pipeline
from edvent_events.catalog.content import CourseCreated, CoursePublished, LessonPublished
from edvent_events.consumer import Handlers
from edvent_events.envelope import Envelope


def handlers_for(pipeline: Callable[[], Pipeline]) -> Handlers:
    """`pipeline()` gives the app's pipeline, built after the handlers (it needs the
    app's sessions)."""
    handlers = Handlers()

    @handlers.on(CourseCreated)
    async def on_course_created(session: AsyncSession, envelope: Envelope[CourseCreated]) -> None:
        event = envelope.data
        await notes_db.record_course(
            session, course_id=event.course_id, owner_id=event.owner_id, title=event.title
        )

    @handlers.on(CoursePublished)
    async def on_course_published(
        session: AsyncSession, envelope: Envelope[CoursePublished]
    ) -> None:
        event = envelope.data
        await notes_db.record_course(
            session, course_id=event.course_id, owner_id=event.owner_id, title=event.title
        )

    @handlers.prepared(LessonPublished)
    async def on_lesson_published(envelope: Envelope[LessonPublished]) -> Apply:
        lesson = LessonRef.published(envelope.data)
        return await notes_usecase.prepare_notes(pipeline=pipeline(), lesson=lesson)

    return handlers
