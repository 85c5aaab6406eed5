"""A student's part of their data export: attempts and grades, as they may see them.

The consumer answers `user.export_requested` with what `gather` finds; the attempts are
shown exactly as `GET /attempts/{id}` shows them to the student, so an export never
reveals correct answers the exam's `review` setting keeps back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import grades as grades_db
from edvent_assessment.db.tables import Exam, User
from edvent_assessment.domain.access import Actor, Role
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.usecases.attempts import AttemptView, own_attempts
from edvent_platform import reference_users
from edvent_platform.cursor import PageKey

PAGE = 100


@dataclass(frozen=True, slots=True)
class Gathered:
    actor: Actor
    attempts: list[AttemptView]
    grades: list[dict[str, Any]] = field(default_factory=list)
    known_as: dict[str, object] | None = None


async def gather(*, session: AsyncSession, user_id: UUID) -> Gathered | None:
    """Everything assessment holds about the user; None once the user was erased (the
    attempts stay, linked to nothing personal: not theirs to export any more)."""
    known = await reference_users.exported(session, users=User, user_id=user_id)
    if known is not None and known["deleted_at"] is not None:
        return None
    role = str(known["role"]) if known is not None else Role.STUDENT.value
    actor = Actor(user_id=user_id, role=role)
    views: list[AttemptView] = []
    after: PageKey | None = None
    while True:
        page, after = await own_attempts(
            session=session, actor=actor, exam_id=None, limit=PAGE, after=after
        )
        views.extend(page)
        if after is None:
            break
    grades: list[dict[str, Any]] = []
    for exam_id in dict.fromkeys(view.attempt.exam_id for view in views):
        exam = await session.get(Exam, exam_id)
        if exam is None:  # attempts keep their exam (RESTRICT); never here
            continue
        config = parse_config(exam.config)
        row = await grades_db.of_student(
            session,
            exam_id=exam.id,
            user_id=user_id,
            grading=config.grading,
            round_half_up=config.mode == "adaptive",
        )
        grades.append(
            {
                "exam_id": str(exam.id),
                "exam_title": exam.title,
                "course_id": str(exam.course_id),
                "grading": config.grading,
                "attempts": row.attempts,
                "grade": row.grade,
                "passed": None if row.grade is None else row.grade >= exam.passing_score_percent,
                "last_completed_at": row.last_completed_at.isoformat()
                if row.last_completed_at
                else None,
            }
        )
    return Gathered(actor=actor, attempts=views, grades=grades, known_as=known)
