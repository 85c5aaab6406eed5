"""Simulated students taking an adaptive exam through the service's own use cases
against its real database: the exam is created, filled and published by
`usecases.exams`; each student starts with `usecases.attempts.start_attempt` and answers
with `answer_question`, one transaction per call as a request would (only the HTTP layer
is left out). `bench/adaptive.py` and the integration tests run it; the engine-level
`domain.simulation` runs the large comparison (see docs/adaptive.md, Simulation). The
service never imports this module at run time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.domain.access import Actor, Role
from edvent_assessment.domain.adaptive import AdaptiveConfig, Bank, Item
from edvent_assessment.domain.scoring import Answer
from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_assessment.usecases import courses as courses_usecase
from edvent_assessment.usecases import exams as exams_usecase
from edvent_assessment.usecases.banks import BankCache
from edvent_events.catalog.content import CourseCreated, CoursePublished
from edvent_platform.db import transaction

GRACE_SECONDS = 30


@dataclass(frozen=True)
class StudentRun:
    attempt_id: UUID
    true_ability: float
    ability: float
    standard_error: float
    # (question position in the exam, correct) in serving order
    answers: list[tuple[int, bool]]
    score: int


@dataclass(frozen=True)
class ServiceRun:
    exam_id: UUID
    students: list[StudentRun]
    answer_ms: float  # mean time of one answer_question call, with its commit

    @property
    def rmse(self) -> float:
        errors = [s.ability - s.true_ability for s in self.students]
        return float(np.sqrt(np.mean(np.square(errors))))

    @property
    def mean_items(self) -> float:
        return float(np.mean([len(s.answers) for s in self.students]))


async def create_exam(
    sessions: async_sessionmaker[AsyncSession], *, items: Sequence[Item], config: AdaptiveConfig
) -> UUID:
    """A published adaptive exam with one two-option question per item ("a" is right)."""
    admin = Actor(user_id=uuid.uuid4(), role=Role.ADMIN)
    course_id = uuid.uuid4()
    async with transaction(sessions) as session:
        await courses_usecase.record_created(
            session=session,
            event=CourseCreated(
                course_id=course_id,
                owner_id=admin.user_id,
                title="Simulation",
                created_at=datetime.now(UTC),
            ),
        )
        # Published, so that its exam is open to the simulated students.
        await courses_usecase.record_published(
            session=session,
            event=CoursePublished(
                course_id=course_id,
                owner_id=admin.user_id,
                title="Simulation",
                published_at=datetime.now(UTC),
            ),
        )
        view = await exams_usecase.create_exam(
            session=session,
            actor=admin,
            course_id=course_id,
            title="Simulated adaptive exam",
            duration_seconds=24 * 3600,
            passing_score_percent=50,
            config=config,
        )
        for item in items:
            await exams_usecase.add_question(
                session=session,
                actor=admin,
                exam_id=view.exam.id,
                prompt=f"Item {item.id}",
                kind="single_choice",
                options=[{"id": "a", "text": "right"}, {"id": "b", "text": "wrong"}],
                correct_option_ids=["a"],
                points=1,
                difficulty=item.difficulty,
                discrimination=item.discrimination,
            )
        await exams_usecase.publish_exam(session=session, actor=admin, exam_id=view.exam.id)
    return view.exam.id


async def run_students(
    sessions: async_sessionmaker[AsyncSession],
    *,
    exam_id: UUID,
    items: Sequence[Item],
    config: AdaptiveConfig,
    abilities: Sequence[float],
    seed: int,
    banks: BankCache | None = None,
) -> ServiceRun:
    """Each student answers right with the model's probability at their true ability."""
    banks = banks or BankCache(size=4, min_responses=100)
    grace = timedelta(seconds=GRACE_SECONDS)
    rng = np.random.default_rng(seed)
    runs: list[StudentRun] = []
    answer_seconds = 0.0
    answers_given = 0
    bank = Bank(items, model=config.model)
    for true_ability in abilities:
        truth = bank.probability_correct(float(true_ability))
        student = Actor(user_id=uuid.uuid4(), role=Role.STUDENT)
        async with transaction(sessions) as session:
            started = await attempts_usecase.start_attempt(
                session=session, actor=student, exam_id=exam_id, grace=grace, banks=banks
            )
        attempt = started.attempt
        current = attempt.answer_sheet[-1]
        answers: list[tuple[int, bool]] = []
        while True:
            right = bool(rng.random() < truth[current["position"]])
            answers.append((current["position"], right))
            began = time.perf_counter()
            async with transaction(sessions) as session:
                answered = await attempts_usecase.answer_question(
                    session=session,
                    actor=student,
                    attempt_id=attempt.id,
                    answer=Answer(UUID(current["question_id"]), ("a",) if right else ("b",)),
                    grace=grace,
                    banks=banks,
                )
            answer_seconds += time.perf_counter() - began
            answers_given += 1
            if answered.next_question is None:
                closed = answered.view.attempt
                assert closed.ability is not None and closed.standard_error is not None
                assert closed.score is not None
                runs.append(
                    StudentRun(
                        attempt.id,
                        float(true_ability),
                        closed.ability,
                        closed.standard_error,
                        answers,
                        closed.score,
                    )
                )
                break
            current = answered.view.attempt.answer_sheet[-1]
    return ServiceRun(exam_id, runs, answer_ms=answer_seconds * 1000 / max(1, answers_given))
