"""Queries on `exam_attempts`. Callers own the transaction.

Times come from the database clock (`now()`), the one clock every instance shares.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Interval, func, literal, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from edvent_assessment.db.tables import Attempt, Course, Exam
from edvent_platform.cursor import PageKey

OPEN = "in_progress"


class Located(NamedTuple):
    """An attempt with what deciding about it needs: its exam, its course (owner,
    published, archived), whether it is past its deadline plus grace, and the database
    clock's `now`."""

    attempt: Attempt
    exam: Exam
    course: Course
    late: bool
    now: datetime

    @property
    def owner_id(self) -> UUID:
        return self.course.owner_id


def _late(grace: timedelta) -> Any:
    return (func.now() > Attempt.deadline + literal(grace, Interval)).label("late")


def _located(grace: timedelta) -> Any:
    return (
        select(Attempt, Exam, Course, _late(grace), func.now().label("now"))
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
    closes_at: datetime | None,
    answer_sheet: list[dict[str, Any]],
    shuffle_seed: int | None,
) -> Attempt | None:
    """A new open attempt, or None when the student has one already: the partial unique
    index decides, so two simultaneous starts cannot both insert (the second waits for
    the first to commit, then does nothing). The deadline is never after `closes_at`."""
    deadline = func.now() + literal(timedelta(seconds=duration_seconds), Interval)
    if closes_at is not None:
        deadline = func.least(deadline, closes_at)
    statement = (
        insert(Attempt)
        .values(
            id=attempt_id,
            exam_id=exam_id,
            user_id=user_id,
            deadline=deadline,
            answer_sheet=answer_sheet,
            shuffle_seed=shuffle_seed,
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
    attempt: Attempt,
    status: str,
    score: int,
    passed: bool,
    answer_sheet: list[dict[str, Any]],
    ability: float | None = None,
    standard_error: float | None = None,
) -> Attempt:
    """Close the open, locked `attempt` (loaded in this session) and return it as closed.

    Only `completed_at` comes back from the database: the rest is what was written, so
    the 4 KB sheet is not sent back and decoded again (the rush's profile showed it)."""
    values = {
        "status": status,
        "score": score,
        "passed": passed,
        "answer_sheet": answer_sheet,
        "ability": ability,
        "standard_error": standard_error,
    }
    statement = (
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == OPEN)
        .values(completed_at=func.now(), **values)
        .returning(Attempt.completed_at)
        .execution_options(synchronize_session=False)
    )
    completed_at = (await session.execute(statement)).scalar_one()
    for name, value in {**values, "completed_at": completed_at}.items():
        set_committed_value(attempt, name, value)
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


async def now(session: AsyncSession) -> datetime:
    """The database clock (the transaction's start), the one every instance shares."""
    found: datetime = (await session.execute(select(func.now()))).scalar_one()
    return found


async def lock_pair(session: AsyncSession, *, exam_id: UUID, user_id: UUID) -> datetime:
    """Serialise starts of one student at one exam until the transaction ends, so that
    counting the attempts and inserting one cannot interleave with another start
    (two racing starts cannot both take the last attempt). Returns the database clock
    (`now()`, the transaction's start, so the same as `now` would read later), in the
    same round trip."""
    lock = func.pg_advisory_xact_lock(func.hashtextextended(f"attempt:{exam_id}:{user_id}", 0))
    found: datetime = (await session.execute(select(lock, func.now()))).one()[1]
    return found


async def count_started(session: AsyncSession, *, exam_id: UUID, user_id: UUID) -> int:
    """Every attempt the student started at the exam: open, completed and expired."""
    count: int = (
        await session.scalar(
            select(func.count()).where(Attempt.exam_id == exam_id, Attempt.user_id == user_id)
        )
        or 0
    )
    return count


async def page_of_student(
    session: AsyncSession,
    *,
    user_id: UUID,
    exam_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> list[tuple[Attempt, Exam, Course, datetime]]:
    """The student's attempts with their exam and course, newest first by `started_at`."""
    statement = (
        select(Attempt, Exam, Course, func.now())
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
    return [
        (attempt, exam, course, now)
        for attempt, exam, course, now in await session.execute(statement)
    ]


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
