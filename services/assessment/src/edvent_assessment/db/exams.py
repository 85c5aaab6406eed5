"""Queries on `exams` and `questions`. Callers own the transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import Course, Exam, Question
from edvent_assessment.domain.access import ExamFilter
from edvent_platform.cursor import PageKey


async def create(session: AsyncSession, **values: Any) -> Exam:
    exam: Exam = (await session.scalars(insert(Exam).values(**values).returning(Exam))).one()
    return exam


async def with_course(
    session: AsyncSession, exam_id: UUID, *, for_update: bool = False
) -> Row[Exam, Course] | None:
    """The exam and its course (owner, published, archived); `for_update` locks the
    exam row."""
    statement = select(Exam, Course).join(Course).where(Exam.id == exam_id)
    if for_update:
        statement = statement.with_for_update(of=Exam)
    return (await session.execute(statement)).one_or_none()


async def questions(session: AsyncSession, exam_id: UUID) -> list[Question]:
    statement = select(Question).where(Question.exam_id == exam_id).order_by(Question.position)
    return list(await session.scalars(statement))


async def add_question(session: AsyncSession, *, exam_id: UUID, **values: Any) -> Question:
    """Appended after the last question (the caller holds the exam's row lock)."""
    position = select(func.coalesce(func.max(Question.position) + 1, 0)).where(
        Question.exam_id == exam_id
    )
    statement = (
        insert(Question)
        .values(exam_id=exam_id, position=position.scalar_subquery(), **values)
        .returning(Question)
    )
    question: Question = (await session.scalars(statement)).one()
    return question


async def publish(session: AsyncSession, *, exam_id: UUID) -> Exam:
    statement = (
        update(Exam)
        .where(Exam.id == exam_id)
        .values(status="published", published_at=func.now(), updated_at=func.now())
        .returning(Exam)
        .execution_options(populate_existing=True)
    )
    exam: Exam = (await session.scalars(statement)).one()
    return exam


async def page(
    session: AsyncSession,
    *,
    visible: ExamFilter,
    course_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> list[tuple[Exam, int]]:
    """Newest first; `limit` rows after `after`, among those `visible` allows (the
    rule of `access.ExamFacts.open_to_students`, in SQL), each with its number of
    questions (counted in the same statement: one round trip, not two)."""
    questions = (
        select(func.count())
        .where(Question.exam_id == Exam.id)
        .correlate(Exam)
        .scalar_subquery()
        .label("questions")
    )
    statement = (
        select(Exam, questions).order_by(Exam.created_at.desc(), Exam.id.desc()).limit(limit)
    )
    if not visible.everything:
        open_to_students = and_(
            Exam.status == "published",
            Exam.course_id.in_(
                select(Course.id).where(
                    Course.published_at.is_not(None), Course.archived_at.is_(None)
                )
            ),
        )
        if visible.also_owner is not None:
            owned = select(Course.id).where(Course.owner_id == visible.also_owner)
            statement = statement.where(or_(open_to_students, Exam.course_id.in_(owned)))
        else:
            statement = statement.where(open_to_students)
    if course_id is not None:
        statement = statement.where(Exam.course_id == course_id)
    if after is not None:
        statement = statement.where(
            tuple_(Exam.created_at, Exam.id) < tuple_(after.created_at, after.id)
        )
    return [(exam, count) for exam, count in (await session.execute(statement)).all()]
