"""Queries on `exam_attempts`. Callers own the transaction.

Times come from the database clock (`now()`), the one clock every instance shares.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Interval, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import Attempt, Course, Exam
from edvent_platform.cursor import PageKey

OPEN = "in_progress"


class Located(NamedTuple):
    """An attempt with what deciding about it needs: its exam, the course's owner, and
    whether it is past its deadline plus grace (by the database clock)."""

    attempt: Attempt
    exam: Exam
    owner_id: UUID
    late: bool


def _late(grace: timedelta) -> Any:
    return (func.now() > Attempt.deadline + literal(grace, Interval)).label("late")


def _located(grace: timedelta) -> Any:
    return (
        select(Attempt, Exam, Course.owner_id, _late(grace))
        .select_from(Attempt)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(Course, Course.id == Exam.course_id)
    )


async def locate(
    session: AsyncSession, attempt_id: UUID, *, grace: timedelta, for_update: bool = False
) -> Located | None:
    statement = _located(grace).where(Attempt.id == attempt_id)
    if for_update:
        statement = statement.with_for_update(of=Attempt)
    row = (await session.execute(statement)).one_or_none()
    return Located(*row) if row else None


async def open_attempt(
    session: AsyncSession, *, exam_id: UUID, user_id: UUID, grace: timedelta
) -> Located | None:
    """The student's open attempt at the exam, locked."""
    statement = (
        _located(grace)
        .where(Attempt.exam_id == exam_id, Attempt.user_id == user_id, Attempt.status == OPEN)
        .with_for_update(of=Attempt)
    )
    row = (await session.execute(statement)).one_or_none()
    return Located(*row) if row else None


async def insert_open(
    session: AsyncSession,
    *,
    attempt_id: UUID,
    exam_id: UUID,
    user_id: UUID,
    duration_seconds: int,
    answer_sheet: list[dict[str, Any]],
) -> Attempt | None:
    """A new open attempt, or None when the student has one already: the partial unique
    index decides, so two simultaneous starts cannot both insert (the second waits for
    the first to commit, then does nothing)."""
    statement = (
        insert(Attempt)
        .values(
            id=attempt_id,
            exam_id=exam_id,
            user_id=user_id,
            deadline=func.now() + literal(timedelta(seconds=duration_seconds), Interval),
            answer_sheet=answer_sheet,
        )
        .on_conflict_do_nothing(
            index_elements=[Attempt.exam_id, Attempt.user_id],
            # Spelled as in the index: a bound parameter here would not let PostgreSQL
            # match the partial index once psycopg prepares the statement.
            index_where=text("status = 'in_progress'"),
        )
        .returning(Attempt)
    )
    return (await session.scalars(statement)).one_or_none()


async def close(
    session: AsyncSession,
    *,
    attempt_id: UUID,
    status: str,
    score: int,
    passed: bool,
    answer_sheet: list[dict[str, Any]],
    ability: float | None = None,
    standard_error: float | None = None,
) -> Attempt:
    statement = (
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.status == OPEN)
        .values(
            status=status,
            score=score,
            passed=passed,
            completed_at=func.now(),
            answer_sheet=answer_sheet,
            ability=ability,
            standard_error=standard_error,
        )
        .returning(Attempt)
        .execution_options(populate_existing=True)
    )
    attempt: Attempt = (await session.scalars(statement)).one()
    return attempt


async def save_sheet(
    session: AsyncSession, *, attempt_id: UUID, answer_sheet: list[dict[str, Any]]
) -> Attempt:
    """An open adaptive attempt's sheet after an answer (the caller holds the row lock)."""
    statement = (
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.status == OPEN)
        .values(answer_sheet=answer_sheet)
        .returning(Attempt)
        .execution_options(populate_existing=True)
    )
    attempt: Attempt = (await session.scalars(statement)).one()
    return attempt


async def overdue(session: AsyncSession, *, grace: timedelta, limit: int) -> list[Located]:
    """Open attempts past deadline + grace, locked; rows another transaction holds
    (a submit, another sweeper) are skipped, not waited for."""
    statement = (
        _located(grace)
        .where(
            Attempt.status == OPEN,
            Attempt.deadline < func.now() - literal(grace, Interval),
        )
        .order_by(Attempt.deadline)
        .limit(limit)
        .with_for_update(of=Attempt, skip_locked=True)
    )
    return [Located(*row) for row in (await session.execute(statement)).all()]


async def by_id(session: AsyncSession, attempt_id: UUID) -> Attempt | None:
    return await session.get(Attempt, attempt_id)


async def page_of_student(
    session: AsyncSession,
    *,
    user_id: UUID,
    exam_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> list[tuple[Attempt, UUID]]:
    """The student's attempts with their course's owner, newest first by `started_at`."""
    statement = (
        select(Attempt, Course.owner_id)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(Course, Course.id == Exam.course_id)
        .where(Attempt.user_id == user_id)
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        .limit(limit)
    )
    if exam_id is not None:
        statement = statement.where(Attempt.exam_id == exam_id)
    if after is not None:
        statement = statement.where(
            tuple_(Attempt.started_at, Attempt.id) < tuple_(after.created_at, after.id)
        )
    return [(attempt, owner_id) for attempt, owner_id in await session.execute(statement)]


async def page(
    session: AsyncSession,
    *,
    exam_id: UUID,
    limit: int,
    after: PageKey | None,
) -> list[Attempt]:
    """Newest first by `started_at`."""
    statement = (
        select(Attempt)
        .where(Attempt.exam_id == exam_id)
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(Attempt.started_at, Attempt.id) < tuple_(after.created_at, after.id)
        )
    return list(await session.scalars(statement))
