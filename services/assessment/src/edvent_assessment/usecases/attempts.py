"""Starting, submitting, expiring and reading attempts.

An attempt snapshots the exam's questions into its answer sheet when it starts, and
is closed exactly once: `completed` by a submission in time, or `expired` by a late
submission, a new start after the deadline, or the sweeper. Each close writes its
AttemptCompleted to the outbox in the same transaction; the row lock taken before
closing makes a second closer see the first one's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import attempts as attempts_db
from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.attempts import Located
from edvent_assessment.db.tables import Attempt, Exam, Question
from edvent_assessment.domain import access, scoring, sheets
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.errors import AttemptClosed, AttemptNotFound, ExamNotFound
from edvent_assessment.domain.sheets import SheetItem, SheetOption
from edvent_assessment.usecases import exams as exams_usecase
from edvent_assessment.usecases import users as users_usecase
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.outbox import add_event
from edvent_platform.cursor import PageKey

COMPLETED, EXPIRED = "completed", "expired"


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: Attempt
    owner_id: UUID  # the course's owner, for who sees the correct answers


@dataclass(frozen=True, slots=True)
class Started:
    view: AttemptView
    created: bool


@dataclass(frozen=True, slots=True)
class Submitted:
    """The closed attempt; `expired` when the submission came too late (and was not graded)."""

    view: AttemptView
    expired: bool


async def _announce(session: AsyncSession, attempt: Attempt, exam: Exam) -> None:
    assert attempt.completed_at is not None and attempt.score is not None
    assert attempt.passed is not None
    await add_event(
        session,
        AttemptCompleted(
            attempt_id=attempt.id,
            exam_id=attempt.exam_id,
            course_id=exam.course_id,
            user_id=attempt.user_id,
            status=attempt.status,
            score=attempt.score,
            passed=attempt.passed,
            started_at=attempt.started_at,
            completed_at=attempt.completed_at,
        ),
    )


async def expire(*, session: AsyncSession, located: Located) -> Attempt:
    """Close a locked open attempt as expired: nothing answered, score 0, not passed."""
    sheet = scoring.unanswered(sheets.load(located.attempt.answer_sheet))
    attempt = await attempts_db.close(
        session,
        attempt_id=located.attempt.id,
        status=EXPIRED,
        score=0,
        passed=False,
        answer_sheet=sheets.dump(sheet),
    )
    await _announce(session, attempt, located.exam)
    return attempt


def snapshot(questions: list[Question]) -> list[SheetItem]:
    return [
        SheetItem(
            question_id=question.id,
            position=question.position,
            prompt=question.prompt,
            kind=question.kind,
            options=[SheetOption.model_validate(option) for option in question.options],
            correct_option_ids=list(question.correct_option_ids),
            points=question.points,
            difficulty=question.difficulty,
        )
        for question in questions
    ]


async def start_attempt(
    *, session: AsyncSession, actor: Actor, exam_id: UUID, grace: timedelta
) -> Started:
    """The student's open attempt at the exam, or a new one. An open attempt past its
    deadline and grace is closed as expired first, and a new one starts."""
    row = await exams_db.with_owner(session, exam_id)
    if row is None:
        raise ExamNotFound
    exam, owner_id = row
    access.check_may_start(actor, exams_usecase.facts(exam, owner_id))
    await users_usecase.remember(session=session, actor=actor)
    current = await attempts_db.open_attempt(
        session, exam_id=exam_id, user_id=actor.user_id, grace=grace
    )
    if current is not None:
        if not current.late:
            return Started(AttemptView(current.attempt, owner_id), created=False)
        await expire(session=session, located=current)
    sheet = snapshot(await exams_db.questions(session, exam_id))
    attempt = await attempts_db.insert_open(
        session,
        exam_id=exam_id,
        user_id=actor.user_id,
        duration_seconds=exam.duration_seconds,
        answer_sheet=sheets.dump(sheet),
    )
    if attempt is not None:
        return Started(AttemptView(attempt, owner_id), created=True)
    # A simultaneous start committed first: the index made this insert wait for it.
    current = await attempts_db.open_attempt(
        session, exam_id=exam_id, user_id=actor.user_id, grace=grace
    )
    assert current is not None
    return Started(AttemptView(current.attempt, owner_id), created=False)


async def submit_attempt(
    *,
    session: AsyncSession,
    actor: Actor,
    attempt_id: UUID,
    answers: list[scoring.Answer],
    grace: timedelta,
) -> Submitted:
    located = await attempts_db.locate(session, attempt_id, grace=grace, for_update=True)
    if located is None:
        raise AttemptNotFound
    access.check_may_submit(actor, student_id=located.attempt.user_id, owner_id=located.owner_id)
    if located.attempt.status != attempts_db.OPEN:
        raise AttemptClosed(located.attempt.status)
    if located.late:
        attempt = await expire(session=session, located=located)
        return Submitted(AttemptView(attempt, located.owner_id), expired=True)
    graded = scoring.grade(
        sheets.load(located.attempt.answer_sheet),
        answers,
        passing_percent=located.exam.passing_score_percent,
    )
    attempt = await attempts_db.close(
        session,
        attempt_id=attempt_id,
        status=COMPLETED,
        score=graded.score,
        passed=graded.passed,
        answer_sheet=sheets.dump(graded.items),
    )
    await _announce(session, attempt, located.exam)
    return Submitted(AttemptView(attempt, located.owner_id), expired=False)


async def expire_overdue(*, session: AsyncSession, grace: timedelta, limit: int) -> int:
    """Close up to `limit` attempts past deadline + grace; how many were closed."""
    overdue = await attempts_db.overdue(session, grace=grace, limit=limit)
    for located in overdue:
        await expire(session=session, located=located)
    return len(overdue)


async def visible_attempt(*, session: AsyncSession, actor: Actor, attempt_id: UUID) -> AttemptView:
    located = await attempts_db.locate(session, attempt_id, grace=timedelta(0))
    if located is None:
        raise AttemptNotFound
    access.check_attempt_visible(
        actor, student_id=located.attempt.user_id, owner_id=located.owner_id
    )
    return AttemptView(located.attempt, located.owner_id)


async def list_attempts(
    *,
    session: AsyncSession,
    actor: Actor,
    exam_id: UUID,
    limit: int,
    after: PageKey | None,
) -> tuple[list[AttemptView], PageKey | None]:
    """The exam's attempts, newest first (its course's owner and ADMINs)."""
    view = await exams_usecase.visible_exam(session=session, actor=actor, exam_id=exam_id)
    access.check_exam_manageable(actor, view.facts)
    rows = await attempts_db.page(
        session, exam_id=exam_id, user_id=None, limit=limit + 1, after=after
    )
    items = rows[:limit]
    more = len(rows) > limit
    return (
        [AttemptView(attempt, view.owner_id) for attempt in items],
        PageKey(items[-1].started_at, items[-1].id) if more else None,
    )
