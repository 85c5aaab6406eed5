"""Events in, statements queued: each function runs in its caller's transaction (the
consumer's inbox transaction, or the backfill's) and never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.ai_notes import NotesGenerated
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.catalog.content import CourseCreated, CourseOwnerChanged, LessonPublished
from edvent_events.catalog.identity import UserDeleted, UserRegistered
from edvent_events.envelope import Envelope
from edvent_learning_records.db import courses as courses_db
from edvent_learning_records.db import statements as statements_db
from edvent_learning_records.domain.statements import Mapper, Statement


async def _queue(
    session: AsyncSession, *, statements: Sequence[Statement], event_time: datetime
) -> int:
    """Queue what is not about an erased user: after `user.deleted` nothing more is
    emitted for that account, even from an older event arriving late or replayed."""
    kept = []
    erased: dict[UUID, bool] = {}
    for statement in statements:
        if statement.user_id is not None:
            if statement.user_id not in erased:
                erased[statement.user_id] = await statements_db.is_erased(
                    session, user_id=statement.user_id
                )
            if erased[statement.user_id]:
                continue
        kept.append(statement)
    return await statements_db.add(session, statements=kept, event_time=event_time)


async def record_registered(
    session: AsyncSession, *, mapper: Mapper, envelope: Envelope[UserRegistered]
) -> int:
    event = envelope.data
    statement = mapper.registered(
        event_id=envelope.id, user_id=event.user_id, at=event.registered_at
    )
    return await _queue(session, statements=[statement], event_time=envelope.time)


async def record_course_owner(
    session: AsyncSession, *, envelope: Envelope[CourseCreated] | Envelope[CourseOwnerChanged]
) -> None:
    event = envelope.data
    if isinstance(event, CourseCreated):
        await courses_db.set_owner(
            session, course_id=event.course_id, owner_id=event.owner_id, since=event.created_at
        )
    elif isinstance(event, CourseOwnerChanged):
        await courses_db.set_owner(
            session, course_id=event.course_id, owner_id=event.new_owner_id, since=event.changed_at
        )


async def record_lesson_published(
    session: AsyncSession, *, mapper: Mapper, envelope: Envelope[LessonPublished]
) -> int:
    event = envelope.data
    statement = mapper.lesson_shared(
        event_id=envelope.id,
        author_id=await courses_db.owner_of(session, course_id=event.course_id),
        lesson_id=event.lesson_id,
        course_id=event.course_id,
        title=event.title,
        at=event.published_at,
    )
    return await _queue(session, statements=[statement], event_time=envelope.time)


async def record_attempt(
    session: AsyncSession, *, mapper: Mapper, envelope: Envelope[AttemptCompleted]
) -> int:
    event = envelope.data
    statements = mapper.attempt(
        event_id=envelope.id,
        attempt_id=event.attempt_id,
        exam_id=event.exam_id,
        course_id=event.course_id,
        user_id=event.user_id,
        status=event.status,
        score=event.score,
        passed=event.passed,
        started_at=event.started_at,
        completed_at=event.completed_at,
    )
    return await _queue(session, statements=statements, event_time=envelope.time)


async def record_note(
    session: AsyncSession, *, mapper: Mapper, envelope: Envelope[NotesGenerated]
) -> int:
    event = envelope.data
    statement = mapper.note_generated(
        event_id=envelope.id,
        lesson_id=event.lesson_id,
        course_id=event.course_id,
        model=event.model,
        key_concepts=[concept.name for concept in event.key_concepts],
        at=event.generated_at,
    )
    return await _queue(session, statements=[statement], event_time=envelope.time)


async def record_erasure(
    session: AsyncSession, *, mapper: Mapper, envelope: Envelope[UserDeleted]
) -> int:
    """Stop emitting for the user, drop what never left, and void what the LRS holds.

    Voiding is all xAPI offers: an LRS never deletes a statement, it only hides a
    voided one from ordinary queries (README, "Privacy")."""
    event = envelope.data
    await statements_db.record_erasure(session, user_id=event.user_id, at=event.deleted_at)
    sent = await statements_db.withdraw_for_user(session, user_id=event.user_id)
    voiding = [
        mapper.voiding(event_id=envelope.id, voided=voided, at=event.deleted_at) for voided in sent
    ]
    return await statements_db.add(session, statements=voiding, event_time=envelope.time)
