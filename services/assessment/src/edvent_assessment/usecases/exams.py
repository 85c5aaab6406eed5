"""Creating exams, adding questions, publishing, reading and listing exams."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import courses as courses_db
from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.tables import Course, Exam, Question
from edvent_assessment.domain import access
from edvent_assessment.domain.access import Actor, ExamFacts
from edvent_assessment.domain.errors import (
    CourseUnknown,
    ExamHasNoQuestions,
    ExamNotDraft,
    ExamNotFound,
)
from edvent_assessment.domain.exams import AnyConfig, ExamStatus
from edvent_events.catalog.assessment import ExamPublished
from edvent_events.outbox import add_event
from edvent_platform.cursor import PageKey


@dataclass(frozen=True, slots=True)
class ExamView:
    exam: Exam
    course: Course
    questions: list[Question]

    @property
    def owner_id(self) -> UUID:
        return self.course.owner_id

    @property
    def facts(self) -> ExamFacts:
        return facts(self.exam, self.course)


def facts(exam: Exam, course: Course) -> ExamFacts:
    """What the access rules need to know of an exam, from the exam and the course's
    reference row (content.courses' events)."""
    return ExamFacts(
        owner_id=course.owner_id,
        published=exam.status == ExamStatus.PUBLISHED,
        course_published=course.published_at is not None,
        course_archived=course.archived_at is not None,
    )


async def locate(
    session: AsyncSession, exam_id: UUID, *, for_update: bool = False
) -> tuple[Exam, Course]:
    row = await exams_db.with_course(session, exam_id, for_update=for_update)
    if row is None:
        raise ExamNotFound
    exam, course = row
    return exam, course


async def create_exam(
    *,
    session: AsyncSession,
    actor: Actor,
    course_id: UUID,
    title: str,
    duration_seconds: int,
    passing_score_percent: int,
    config: AnyConfig,
) -> ExamView:
    access.check_may_author(actor)
    course = await courses_db.by_id(session, course_id)
    if course is None:
        raise CourseUnknown
    access.check_may_create_exam(actor, course.owner_id)
    exam = await exams_db.create(
        session,
        course_id=course_id,
        title=title,
        duration_seconds=duration_seconds,
        passing_score_percent=passing_score_percent,
        config=config.model_dump(mode="json"),
    )
    return ExamView(exam=exam, course=course, questions=[])


async def visible_exam(*, session: AsyncSession, actor: Actor, exam_id: UUID) -> ExamView:
    exam, course = await locate(session, exam_id)
    access.check_exam_visible(actor, facts(exam, course))
    return ExamView(exam=exam, course=course, questions=await exams_db.questions(session, exam_id))


async def add_question(
    *,
    session: AsyncSession,
    actor: Actor,
    exam_id: UUID,
    prompt: str,
    kind: str,
    options: list[dict[str, str]],
    correct_option_ids: list[str],
    points: int,
    difficulty: float,
    discrimination: float | None = None,
) -> Question:
    # The exam's row lock orders this against publishing and other additions.
    exam, course = await locate(session, exam_id, for_update=True)
    access.check_exam_manageable(actor, facts(exam, course))
    if exam.status != ExamStatus.DRAFT:
        raise ExamNotDraft
    return await exams_db.add_question(
        session,
        exam_id=exam_id,
        prompt=prompt,
        kind=kind,
        options=options,
        correct_option_ids=correct_option_ids,
        points=points,
        difficulty=difficulty,
        discrimination=discrimination,
    )


async def publish_exam(*, session: AsyncSession, actor: Actor, exam_id: UUID) -> ExamView:
    """Publish once (ExamPublished); publishing a published exam changes nothing."""
    exam, course = await locate(session, exam_id, for_update=True)
    access.check_exam_manageable(actor, facts(exam, course))
    questions = await exams_db.questions(session, exam_id)
    if exam.status == ExamStatus.PUBLISHED:
        return ExamView(exam=exam, course=course, questions=questions)
    if not questions:
        raise ExamHasNoQuestions
    exam = await exams_db.publish(session, exam_id=exam_id)
    assert exam.published_at is not None
    await add_event(
        session,
        ExamPublished(
            exam_id=exam.id,
            course_id=exam.course_id,
            title=exam.title,
            question_count=len(questions),
            published_at=exam.published_at,
        ),
    )
    return ExamView(exam=exam, course=course, questions=questions)


async def list_exams(
    *,
    session: AsyncSession,
    actor: Actor,
    course_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> tuple[list[tuple[Exam, int]], PageKey | None]:
    """A page of the exams `actor` may see with their question counts, newest first."""
    rows = await exams_db.page(
        session,
        visible=access.exam_filter(actor),
        course_id=course_id,
        limit=limit + 1,
        after=after,
    )
    items = rows[:limit]
    more = len(rows) > limit
    return items, PageKey(items[-1][0].created_at, items[-1][0].id) if more else None
