"""Starting, submitting, expiring and reading attempts.

An attempt snapshots the exam's questions into its answer sheet when it starts, and
is closed exactly once: `completed` by a submission in time, or `expired` by a late
submission, a new start after the deadline, or the sweeper. Each close writes its
AttemptCompleted to the outbox in the same transaction; the row lock taken before
closing makes a second closer see the first one's result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import attempts as attempts_db
from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.attempts import Located
from edvent_assessment.db.tables import Attempt, Exam
from edvent_assessment.domain import access, adaptive, scoring, sheets
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.adaptive import AdaptiveConfig, Response
from edvent_assessment.domain.errors import (
    AttemptClosed,
    AttemptNotFound,
    ExamNotFound,
    InvalidAnswers,
    QuestionAnswered,
    QuestionNotServed,
    WrongMode,
)
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.domain.sheets import SheetItem
from edvent_assessment.usecases import exams as exams_usecase
from edvent_assessment.usecases import users as users_usecase
from edvent_assessment.usecases.banks import BankCache, snapshot
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.outbox import add_event
from edvent_platform.cursor import PageKey

COMPLETED, EXPIRED = "completed", "expired"


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: Attempt
    owner_id: UUID  # the course's owner, for who sees the correct answers


# A page of attempts, newest first, and the key to continue after it (None: the last page).
AttemptPage = tuple[list[AttemptView], PageKey | None]


@dataclass(frozen=True, slots=True)
class Submitted:
    """The closed attempt; `expired` when the submission came too late (and was not graded)."""

    view: AttemptView
    expired: bool


@dataclass(frozen=True, slots=True)
class Answered:
    """An adaptive attempt after one answer: the next question to serve, or None once a
    stop rule held and the attempt completed; `expired` when the answer came too late."""

    view: AttemptView
    next_question: SheetItem | None
    expired: bool


def adaptive_config(exam: Exam) -> AdaptiveConfig | None:
    config = parse_config(exam.config)
    return config if isinstance(config, AdaptiveConfig) else None


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
            ability=attempt.ability,
            standard_error=attempt.standard_error,
        ),
    )


async def expire(*, session: AsyncSession, located: Located) -> Attempt:
    """Close a locked open attempt as expired: score 0, not passed. A fixed attempt
    keeps no answers (none were submitted); an adaptive one keeps those it accepted in
    time, and the question left open counts as unanswered."""
    sheet = sheets.load(located.attempt.answer_sheet)
    if adaptive_config(located.exam) is not None:
        sheet = [
            item if item.answer is not None else scoring.unanswered([item])[0] for item in sheet
        ]
    else:
        sheet = scoring.unanswered(sheet)
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


async def start_attempt(
    *, session: AsyncSession, actor: Actor, exam_id: UUID, grace: timedelta, banks: BankCache
) -> AttemptView:
    """The student's open attempt at the exam, or a new one. An open attempt past its
    deadline and grace is closed as expired first, and a new one starts. A fixed attempt
    snapshots every question; an adaptive one the first question chosen for it."""
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
            return AttemptView(current.attempt, owner_id)
        await expire(session=session, located=current)
    # Chosen here, not by the database: the adaptive draw is seeded by the attempt's id.
    attempt_id = uuid.uuid4()
    config = adaptive_config(exam)
    if config is None:
        sheet = [
            snapshot(question, difficulty=question.difficulty)
            for question in await exams_db.questions(session, exam_id)
        ]
    else:
        exam_bank = await banks.get(session, exam=exam, model=config.model)
        step = adaptive.next_step(
            bank=exam_bank.bank,
            config=config,
            responses=[],
            rng=adaptive.selection_rng(seed=str(attempt_id), position=0),
        )
        assert step.next_item is not None  # a published exam has a question
        sheet = [exam_bank.snapshots[step.next_item.id]]
    attempt = await attempts_db.insert_open(
        session,
        attempt_id=attempt_id,
        exam_id=exam_id,
        user_id=actor.user_id,
        duration_seconds=exam.duration_seconds,
        answer_sheet=sheets.dump(sheet),
    )
    if attempt is not None:
        return AttemptView(attempt, owner_id)
    # A simultaneous start committed first: the index made this insert wait for it.
    current = await attempts_db.open_attempt(
        session, exam_id=exam_id, user_id=actor.user_id, grace=grace
    )
    assert current is not None
    return AttemptView(current.attempt, owner_id)


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
    if adaptive_config(located.exam) is not None:
        # Ending early would let a student stop while the estimate, still leaning on
        # the prior, flatters them: an adaptive attempt ends by its stop rules only.
        raise WrongMode(
            "An adaptive attempt is answered one question at a time "
            "(POST /api/v1/attempts/{id}/answers) and completes by its stop rules; "
            "it cannot be submitted."
        )
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


async def answer_question(
    *,
    session: AsyncSession,
    actor: Actor,
    attempt_id: UUID,
    answer: scoring.Answer,
    grace: timedelta,
    banks: BankCache,
) -> Answered:
    """One answer to an adaptive attempt, under its row lock (so simultaneous answers
    are taken one after the other): record it with the ability estimate after it, then
    serve the next question, or complete the attempt when a stop rule holds."""
    located = await attempts_db.locate(session, attempt_id, grace=grace, for_update=True)
    if located is None:
        raise AttemptNotFound
    access.check_may_submit(actor, student_id=located.attempt.user_id, owner_id=located.owner_id)
    config = adaptive_config(located.exam)
    if config is None:
        raise WrongMode(
            "This exam is not adaptive: its attempts are submitted at once "
            "(POST /api/v1/attempts/{id}/submit)."
        )
    if located.attempt.status != attempts_db.OPEN:
        raise AttemptClosed(located.attempt.status)
    if located.late:
        attempt = await expire(session=session, located=located)
        return Answered(AttemptView(attempt, located.owner_id), None, expired=True)
    sheet = sheets.load(located.attempt.answer_sheet)
    index = next(
        (i for i, item in enumerate(sheet) if item.question_id == answer.question_id), None
    )
    if index is None:
        raise QuestionNotServed
    if sheet[index].answer is not None:
        raise QuestionAnswered
    try:
        scoring.check_answers([sheet[index]], [answer])
    except InvalidAnswers as invalid:
        # The same checks as a submission, reported at this body's own fields.
        raise InvalidAnswers(
            [{**error, "loc": ["body", *error["loc"][3:]]} for error in invalid.errors]
        ) from None
    correct = scoring.is_correct(sheet[index], answer.option_ids)
    answered = [item for item in sheet if item.answer is not None]
    responses = [Response(str(item.question_id), bool(item.correct)) for item in answered]
    responses.append(Response(str(answer.question_id), correct))
    exam_bank = await banks.get(session, exam=located.exam, model=config.model)
    step = adaptive.next_step(
        bank=exam_bank.bank,
        config=config,
        responses=responses,
        rng=adaptive.selection_rng(seed=str(attempt_id), position=len(responses)),
    )
    sheet[index] = sheet[index].model_copy(
        update={
            "answer": list(answer.option_ids),
            "correct": correct,
            "ability": step.estimate.ability,
            "standard_error": step.estimate.standard_error,
        }
    )
    if step.next_item is not None:
        served = exam_bank.snapshots[step.next_item.id]
        sheet.append(served)
        attempt = await attempts_db.save_sheet(
            session, attempt_id=attempt_id, answer_sheet=sheets.dump(sheet)
        )
        return Answered(AttemptView(attempt, located.owner_id), served, expired=False)
    score = adaptive.expected_score(bank=exam_bank.bank, ability=step.estimate.ability)
    attempt = await attempts_db.close(
        session,
        attempt_id=attempt_id,
        status=COMPLETED,
        score=score,
        passed=score >= located.exam.passing_score_percent,
        answer_sheet=sheets.dump(sheet),
        ability=step.estimate.ability,
        standard_error=step.estimate.standard_error,
    )
    await _announce(session, attempt, located.exam)
    return Answered(AttemptView(attempt, located.owner_id), None, expired=False)


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
) -> AttemptPage:
    """The exam's attempts, newest first (its course's owner and ADMINs)."""
    view = await exams_usecase.visible_exam(session=session, actor=actor, exam_id=exam_id)
    access.check_exam_manageable(actor, view.facts)
    rows = await attempts_db.page(session, exam_id=exam_id, limit=limit + 1, after=after)
    return _page([AttemptView(attempt, view.owner_id) for attempt in rows], limit=limit)


async def own_attempts(
    *,
    session: AsyncSession,
    actor: Actor,
    exam_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> AttemptPage:
    """The caller's own attempts, newest first; `exam_id` narrows them to one exam.
    Nobody but the student can have any, so nothing more is checked."""
    rows = await attempts_db.page_of_student(
        session, user_id=actor.user_id, exam_id=exam_id, limit=limit + 1, after=after
    )
    return _page([AttemptView(attempt, owner_id) for attempt, owner_id in rows], limit=limit)


def _page(views: list[AttemptView], *, limit: int) -> AttemptPage:
    """A page from the `limit + 1` newest rows fetched: the extra row only says that
    there are more, and the key to continue after is that of the page's last attempt."""
    items = views[:limit]
    if len(views) <= limit:
        return items, None
    last = items[-1].attempt
    return items, PageKey(last.started_at, last.id)
