"""Grades: one per student and exam, made from the attempts by the exam's `grading`."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import attempts as attempts_db
from edvent_assessment.db import grades as grades_db
from edvent_assessment.db.grades import GradeRow
from edvent_assessment.db.tables import Exam
from edvent_assessment.domain import access
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.usecases import exams as exams_usecase


@dataclass(frozen=True, slots=True)
class Grade:
    row: GradeRow
    passed: bool | None


@dataclass(frozen=True, slots=True)
class OwnGrade:
    attempts: int
    attempts_left: int | None
    grade: int | None
    passed: bool | None


def _passed(exam: Exam, grade: int | None) -> bool | None:
    return None if grade is None else grade >= exam.passing_score_percent


async def exam_grades(
    *,
    session: AsyncSession,
    actor: Actor,
    exam_id: UUID,
    limit: int,
    after_user: UUID | None,
) -> tuple[list[Grade], UUID | None]:
    """A page of the exam's grades in student order (course owner, ADMIN), and the
    student to continue after (None: the last page)."""
    exam, course = await exams_usecase.locate(session, exam_id)
    access.check_exam_manageable(actor, exams_usecase.facts(exam, course))
    config = parse_config(exam.config)
    rows = await grades_db.page(
        session,
        exam_id=exam_id,
        grading=config.grading,
        round_half_up=config.mode == "adaptive",
        after_user=after_user,
        limit=limit + 1,
    )
    items = [Grade(row, _passed(exam, row.grade)) for row in rows[:limit]]
    return items, items[-1].row.user_id if len(rows) > limit else None


async def own_grade(*, session: AsyncSession, actor: Actor, exam_id: UUID) -> OwnGrade:
    """The caller's grade at the exam (STUDENT), and how many attempts are left."""
    exam, course = await exams_usecase.locate(session, exam_id)
    took_it = await attempts_db.count_started(session, exam_id=exam_id, user_id=actor.user_id) > 0
    access.check_may_read_own_grade(actor, exams_usecase.facts(exam, course), took_it=took_it)
    config = parse_config(exam.config)
    row = await grades_db.of_student(
        session,
        exam_id=exam_id,
        user_id=actor.user_id,
        grading=config.grading,
        round_half_up=config.mode == "adaptive",
    )
    left = None if config.max_attempts is None else max(config.max_attempts - row.attempts, 0)
    return OwnGrade(
        attempts=row.attempts,
        attempts_left=left,
        grade=row.grade,
        passed=_passed(exam, row.grade),
    )
