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
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import attempts as attempts_db
from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.attempts import Located
from edvent_assessment.db.tables import Attempt, Course, Exam
from edvent_assessment.domain import access, adaptive, scoring, sheets, shuffle
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.adaptive import AdaptiveConfig, Response
from edvent_assessment.domain.errors import (
    AttemptClosed,
    AttemptNotFound,
    ExamNotOpen,
    InvalidAnswers,
    NoAttemptsLeft,
    QuestionAnswered,
    QuestionNotServed,
    WrongMode,
)
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.domain.settings import review_allowed, window_state
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
    # Whether the exam's `review` setting lets the attempt's student see the correct
    # answers and per-question correctness now (the owner and ADMINs always see them).
    review_allows: bool


def view_of(attempt: Attempt, exam: Exam, course: Course, *, now: datetime) -> AttemptView:
    """The attempt with what showing it needs; `now` is the database clock."""
    config = parse_config(exam.config)
    exam_closed = course.archived_at is not None or window_state(config, now=now) == "closed"
    return AttemptView(
        attempt,
        course.owner_id,
        review_allowed(
            config, attempt_closed=attempt.status != attempts_db.OPEN, exam_closed=exam_closed
        ),
    )


def _located_view(located: Located, attempt: Attempt | None = None) -> AttemptView:
    return view_of(attempt or located.attempt, located.exam, located.course, now=located.now)


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
        attempt=located.attempt,
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
    deadline and grace is closed as expired first, and a new one starts, if the exam's
    window and `max_attempts` allow it (the (student, exam) lock orders racing starts,
    so two cannot both take the last attempt). A fixed attempt snapshots every question;
    an adaptive one the first question chosen for it; both in the attempt's own order
    when the exam shuffles."""
    exam, course = await exams_usecase.locate(session, exam_id)
    facts = exams_usecase.facts(exam, course)
    took_it_before = False
    if facts.course_archived and actor.role == access.Role.STUDENT:
        took_it_before = (
            await attempts_db.count_started(session, exam_id=exam_id, user_id=actor.user_id) > 0
        )
    access.check_may_start(actor, facts, took_it_before=took_it_before)
    await users_usecase.remember(session=session, actor=actor)
    now = await attempts_db.lock_pair(session, exam_id=exam_id, user_id=actor.user_id)
    current = await attempts_db.open_attempt(
        session, exam_id=exam_id, user_id=actor.user_id, grace=grace
    )
    if current is not None:
        if not current.late:
            return _located_view(current)
        await expire(session=session, located=current)
    settings = parse_config(exam.config)
    window = window_state(settings, now=now)
    if window != "open":
        raise ExamNotOpen(before=window == "before")
    if settings.max_attempts is not None:
        started = await attempts_db.count_started(session, exam_id=exam_id, user_id=actor.user_id)
        if started >= settings.max_attempts:
            raise NoAttemptsLeft(settings.max_attempts)
    # Chosen here, not by the database: the adaptive draw is seeded by the attempt's id.
    attempt_id = uuid.uuid4()
    seed = shuffle.new_seed()
    config = adaptive_config(exam)
    if config is None:
        sheet = shuffle.arrange(
            [
                snapshot(question, difficulty=question.difficulty)
                for question in await exams_db.questions(session, exam_id)
            ],
            seed=seed,
            questions=settings.shuffle_questions,
            options=settings.shuffle_options,
        )
    else:
        exam_bank = await banks.get(session, exam=exam, model=config.model)
        step = adaptive.next_step(
            bank=exam_bank.bank,
            config=config,
            responses=[],
            rng=adaptive.selection_rng(seed=str(attempt_id), position=0),
        )
        assert step.next_item is not None  # a published exam has a question
        sheet = [_served(exam_bank.snapshots[step.next_item.id], config=config, seed=seed)]
    attempt = await attempts_db.insert_open(
        session,
        attempt_id=attempt_id,
        exam_id=exam_id,
        user_id=actor.user_id,
        duration_seconds=exam.duration_seconds,
        closes_at=settings.closes_at,
        answer_sheet=sheets.dump(sheet),
        shuffle_seed=seed,
    )
    if attempt is not None:
        return view_of(attempt, exam, course, now=now)
    # Only a start that did not take the pair lock could have won (the partial unique
    # index made this insert wait for it): answer its attempt, as a second start does.
    current = await attempts_db.open_attempt(
        session, exam_id=exam_id, user_id=actor.user_id, grace=grace
    )
    assert current is not None
    return _located_view(current)


def _served(item: SheetItem, *, config: AdaptiveConfig, seed: int | None) -> SheetItem:
    """An adaptive exam's question as this attempt serves it (its options in the
    attempt's order when the exam shuffles them)."""
    if config.shuffle_options and seed is not None:
        return shuffle.shuffle_options(item, seed=seed)
    return item


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
        return Submitted(_located_view(located, attempt), expired=True)
    graded = scoring.grade(
        sheets.load(located.attempt.answer_sheet),
        answers,
        passing_percent=located.exam.passing_score_percent,
    )
    attempt = await attempts_db.close(
        session,
        attempt=located.attempt,
        status=COMPLETED,
        score=graded.score,
        passed=graded.passed,
        answer_sheet=sheets.dump(graded.items),
    )
    await _announce(session, attempt, located.exam)
    return Submitted(_located_view(located, attempt), expired=False)


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
        return Answered(_located_view(located, attempt), None, expired=True)
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
        served = _served(
            exam_bank.snapshots[step.next_item.id],
            config=config,
            seed=located.attempt.shuffle_seed,
        )
        sheet.append(served)
        attempt = await attempts_db.save_sheet(
            session, attempt_id=attempt_id, answer_sheet=sheets.dump(sheet)
        )
        return Answered(_located_view(located, attempt), served, expired=False)
    score = adaptive.expected_score(bank=exam_bank.bank, ability=step.estimate.ability)
    attempt = await attempts_db.close(
        session,
        attempt=located.attempt,
        status=COMPLETED,
        score=score,
        passed=score >= located.exam.passing_score_percent,
        answer_sheet=sheets.dump(sheet),
        ability=step.estimate.ability,
        standard_error=step.estimate.standard_error,
    )
    await _announce(session, attempt, located.exam)
    return Answered(_located_view(located, attempt), None, expired=False)


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
    return _located_view(located)


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
    now = await attempts_db.now(session)
    return _page(
        [view_of(attempt, view.exam, view.course, now=now) for attempt in rows], limit=limit
    )


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
    return _page(
        [view_of(attempt, exam, course, now=now) for attempt, exam, course, now in rows],
        limit=limit,
    )


def _page(views: list[AttemptView], *, limit: int) -> AttemptPage:
    """A page from the `limit + 1` newest rows fetched: the extra row only says that
    there are more, and the key to continue after is that of the page's last attempt."""
    items = views[:limit]
    if len(views) <= limit:
        return items, None
    last = items[-1].attempt
    return items, PageKey(last.started_at, last.id)
