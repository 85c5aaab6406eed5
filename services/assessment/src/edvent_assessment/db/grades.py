"""Grades, computed from `exam_attempts` when asked (never stored twice). Callers own
the transaction.

One row per student: every attempt started counts in `attempts`; the grade is made
from the closed ones (an expired attempt is a 0) by the exam's `grading`. The index
`ix_exam_attempts_exam_id_user_id` gives the rows of one exam in student order, so a
page is read without sorting the exam's attempts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import Attempt
from edvent_assessment.domain.settings import Grading


class GradeRow(NamedTuple):
    user_id: UUID
    attempts: int
    grade: int | None  # null until an attempt is closed
    last_completed_at: datetime | None


def _grade(grading: Grading, *, round_half_up: bool) -> Any:
    closed_first = (Attempt.status == "in_progress").asc()
    match grading:
        case "highest":
            return func.max(Attempt.score)
        case "latest":
            order = aggregate_order_by(Attempt.score, Attempt.completed_at.desc().nulls_last())
            return func.array_agg(order)[1]
        case "first":
            order = aggregate_order_by(Attempt.score, closed_first, Attempt.started_at, Attempt.id)
            return func.array_agg(order)[1]
        case "average":
            # Rounded as the exam's scores are: down for fixed exams, half up for adaptive.
            average = func.avg(Attempt.score)
            return func.round(average) if round_half_up else func.floor(average)


def _statement(exam_id: UUID, grading: Grading, *, round_half_up: bool) -> Any:
    return (
        select(
            Attempt.user_id,
            func.count(),
            _grade(grading, round_half_up=round_half_up),
            func.max(Attempt.completed_at),
        )
        .where(Attempt.exam_id == exam_id)
        .group_by(Attempt.user_id)
    )


def _row(row: Any) -> GradeRow:
    user_id, attempts, grade, last = row
    return GradeRow(user_id, attempts, None if grade is None else int(grade), last)


async def page(
    session: AsyncSession,
    *,
    exam_id: UUID,
    grading: Grading,
    round_half_up: bool,
    after_user: UUID | None,
    limit: int,
) -> list[GradeRow]:
    """Students in `user_id` order, `limit` of them after `after_user`."""
    statement = _statement(exam_id, grading, round_half_up=round_half_up)
    if after_user is not None:
        statement = statement.where(Attempt.user_id > after_user)
    statement = statement.order_by(Attempt.user_id).limit(limit)
    return [_row(row) for row in (await session.execute(statement)).all()]


async def of_student(
    session: AsyncSession, *, exam_id: UUID, user_id: UUID, grading: Grading, round_half_up: bool
) -> GradeRow:
    statement = _statement(exam_id, grading, round_half_up=round_half_up).where(
        Attempt.user_id == user_id
    )
    row = (await session.execute(statement)).one_or_none()
    return _row(row) if row is not None else GradeRow(user_id, 0, None, None)
