"""/api/v1/exams: authoring exams and questions, reading them, starting attempts,
and the course owner's views of attempts and analytics."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from edvent_assessment.api.deps import (
    AssessmentDep,
    PageAfter,
    ReadSessionDep,
    SessionDep,
    SignedIn,
    SignedInReading,
)
from edvent_assessment.api.schemas import (
    AnalyticsPublic,
    AttemptList,
    AttemptPublic,
    ExamCreate,
    ExamDetail,
    ExamList,
    GradeList,
    GradePublic,
    OwnGradePublic,
    QuestionCreate,
    QuestionPublic,
    attempt_list,
    attempt_public,
    exam_detail,
    exam_public,
    question_public,
)
from edvent_assessment.usecases import analytics as analytics_usecase
from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_assessment.usecases import exams as exams_usecase
from edvent_assessment.usecases import grades as grades_usecase
from edvent_platform.cursor import encode_page_key
from edvent_platform.openapi import problem_responses

router = APIRouter(prefix="/api/v1/exams", tags=["exams"])

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]

CREATE_EXAM_ERRORS = problem_responses(
    403,
    409,
    422,
    descriptions={
        403: "The caller is not the course's owner or an ADMIN",
        409: "The course is not known here yet; the same request succeeds once it is",
        422: "The request is not valid (malformed or not UTF-8 JSON, a field breaks its "
        "rules, or an adaptive config's `max_items` is below its `min_items`); `errors` "
        "says where",
    },
)
CREATE_EXAM_ERRORS[409]["headers"] = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


@router.post(
    "",
    status_code=201,
    responses=CREATE_EXAM_ERRORS,
    summary="Create a draft exam for a course (its owner, ADMIN)",
    description="409 with `Retry-After` when the course is not known here yet (content's "
    "CourseCreated has not arrived); the same request succeeds once it has. An adaptive "
    "`config` whose `max_items` is below its `min_items` (5 when not given) is 422 at "
    '`["body", "config", "adaptive", "max_items"]`: a rule across two fields that the '
    "schema cannot state, so a body valid by the schema can still be refused.",
)
async def create_exam(body: ExamCreate, actor: SignedIn, session: SessionDep) -> ExamDetail:
    view = await exams_usecase.create_exam(
        session=session,
        actor=actor,
        course_id=body.course_id,
        title=body.title,
        duration_seconds=body.duration_seconds,
        passing_score_percent=body.passing_score_percent,
        config=body.config,
    )
    return exam_detail(view, actor)


@router.get(
    "",
    summary="List exams, newest first",
    description="Published exams of published, unarchived courses; an instructor also "
    "sees every exam of their own courses, an ADMIN all. `course_id` narrows to one course.",
)
async def list_exams(
    actor: SignedInReading,
    session: ReadSessionDep,
    after: PageAfter,
    limit: Limit = 20,
    course_id: UUID | None = None,
) -> ExamList:
    items, next_key = await exams_usecase.list_exams(
        session=session, actor=actor, course_id=course_id, limit=limit, after=after
    )
    return ExamList(
        items=[exam_public(exam, count) for exam, count in items],
        next_cursor=encode_page_key(next_key) if next_key else None,
    )


@router.get(
    "/{exam_id}",
    responses=problem_responses(404),
    summary="An exam with its questions",
    description="Correct answers only for the course's owner and ADMINs. A draft exam, or "
    "an exam of a draft or archived course, is 404 for everyone else.",
)
async def get_exam(exam_id: UUID, actor: SignedInReading, session: ReadSessionDep) -> ExamDetail:
    view = await exams_usecase.visible_exam(session=session, actor=actor, exam_id=exam_id)
    return exam_detail(view, actor)


@router.post(
    "/{exam_id}/questions",
    status_code=201,
    responses=problem_responses(403, 404, 409),
    summary="Add a question to a draft exam (course owner, ADMIN)",
    description="Appended after the last one. 409 once the exam is published (questions "
    "are frozen).",
)
async def add_question(
    exam_id: UUID, body: QuestionCreate, actor: SignedIn, session: SessionDep
) -> QuestionPublic:
    question = await exams_usecase.add_question(
        session=session,
        actor=actor,
        exam_id=exam_id,
        prompt=body.prompt,
        kind=body.kind,
        options=[option.model_dump() for option in body.options],
        correct_option_ids=body.correct_option_ids,
        points=body.points,
        difficulty=body.difficulty,
        discrimination=body.discrimination,
    )
    # Only the course's owner and ADMINs get this far, so the answers are shown.
    return question_public(question, reveal=True)


@router.post(
    "/{exam_id}/publish",
    responses=problem_responses(403, 404, 409),
    summary="Publish an exam (course owner, ADMIN)",
    description="Needs at least one question (else 409); freezes the questions and "
    "publishes ExamPublished once. Publishing again changes nothing.",
)
async def publish_exam(exam_id: UUID, actor: SignedIn, session: SessionDep) -> ExamDetail:
    view = await exams_usecase.publish_exam(session=session, actor=actor, exam_id=exam_id)
    return exam_detail(view, actor)


@router.post(
    "/{exam_id}/attempts",
    status_code=201,
    responses=problem_responses(
        403,
        404,
        409,
        descriptions={
            403: "The caller is not a STUDENT",
            404: "No such exam, or one the caller may not see (a draft, or of a draft or "
            "archived course)",
            409: "No new attempt: `max_attempts` are used (type .../max-attempts-reached), "
            "the window has not opened (.../exam-not-open-yet) or has closed "
            "(.../exam-closed), or the course is archived (.../course-archived, for a "
            "student who took the exam before)",
        },
    ),
    summary="Start an attempt (STUDENT)",
    description="201 with a new attempt, or 201 with the student's open one, unchanged "
    "(CONTRACT.md: a second start returns the open one; one open attempt per student "
    "and exam, also under simultaneous starts). An open attempt "
    "past its deadline is closed as expired and a new one starts. Students may take an "
    "exam again after an attempt closed, up to the exam's `max_attempts` (expired "
    "attempts count; racing starts cannot both take the last one), within `opens_at` and "
    "`closes_at` (the deadline is never after `closes_at`). A draft exam is 404 for "
    "students; other roles get 403. An adaptive exam's attempt holds one question, the "
    "first one served. With `shuffle_questions` / `shuffle_options` the questions and "
    "options come in the attempt's own order.",
)
async def start_attempt(
    exam_id: UUID,
    actor: SignedIn,
    session: SessionDep,
    assessment: AssessmentDep,
) -> AttemptPublic:
    view = await attempts_usecase.start_attempt(
        session=session,
        actor=actor,
        exam_id=exam_id,
        grace=assessment.grace,
        banks=assessment.banks,
    )
    return attempt_public(view, actor)


@router.get(
    "/{exam_id}/attempts",
    responses=problem_responses(403, 404),
    summary="An exam's attempts, newest first (course owner, ADMIN)",
)
async def list_exam_attempts(
    exam_id: UUID, actor: SignedIn, session: SessionDep, after: PageAfter, limit: Limit = 20
) -> AttemptList:
    page = await attempts_usecase.list_attempts(
        session=session, actor=actor, exam_id=exam_id, limit=limit, after=after
    )
    return attempt_list(page, actor)


@router.get(
    "/{exam_id}/analytics",
    responses=problem_responses(403, 404),
    summary="An exam's analytics (course owner, ADMIN)",
    description="Built from attempt.completed events, so it trails submissions by "
    "moments. Counts submitted attempts only: `average_score` (percent), `pass_rate` and "
    "each question's `correct_rate` (0 to 1, null before any submission) leave expired "
    "attempts out; those are counted in `attempts_expired`. Item statistics of classical "
    "test theory: each question's `discrimination` (point-biserial with the rest of the "
    "score) and `option_counts`, the exam's `reliability_alpha` (Cronbach) and "
    "`score_histogram`; null where too few attempts exist.",
)
async def get_exam_analytics(
    exam_id: UUID, actor: SignedIn, session: SessionDep
) -> AnalyticsPublic:
    summary = await analytics_usecase.exam_analytics(session=session, actor=actor, exam_id=exam_id)
    return AnalyticsPublic.of(exam_id, summary)


GradeCursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9a-f]{32}$",
        description="`next_cursor` of the previous page.",
    ),
]


@router.get(
    "/{exam_id}/grades",
    responses=problem_responses(403, 404),
    summary="The grade of every student who started the exam (course owner, ADMIN)",
    description="One row per student, in student id order, paged like every list. "
    "Computed from the attempts when asked: `attempts` counts every attempt started "
    "(expired ones included); `grade` follows the exam's `grading` over the closed "
    "attempts (an expired one is 0; `average` is rounded like scores), null until one "
    "is closed; `passed` is `grade >= passing_score_percent`.",
)
async def list_grades(
    exam_id: UUID,
    actor: SignedIn,
    session: SessionDep,
    cursor: GradeCursor = None,
    limit: Limit = 20,
) -> GradeList:
    items, next_user = await grades_usecase.exam_grades(
        session=session,
        actor=actor,
        exam_id=exam_id,
        limit=limit,
        after_user=UUID(hex=cursor) if cursor else None,
    )
    return GradeList(
        items=[
            GradePublic(
                user_id=item.row.user_id,
                attempts=item.row.attempts,
                grade=item.row.grade,
                passed=item.passed,
                last_completed_at=item.row.last_completed_at,
            )
            for item in items
        ],
        next_cursor=next_user.hex if next_user else None,
    )


@router.get(
    "/{exam_id}/grades/me",
    responses=problem_responses(403, 404, descriptions={403: "The caller is not a STUDENT"}),
    summary="The caller's own grade at the exam (STUDENT)",
    description="`attempts` started (expired ones included), `attempts_left` (null when "
    "unlimited), `grade` by the exam's `grading` (null before a closed attempt) and "
    "`passed`. Readable on an exam the student sees, and on one they took, also once "
    "its course is archived.",
)
async def get_own_grade(exam_id: UUID, actor: SignedIn, session: SessionDep) -> OwnGradePublic:
    grade = await grades_usecase.own_grade(session=session, actor=actor, exam_id=exam_id)
    return OwnGradePublic(
        attempts=grade.attempts,
        attempts_left=grade.attempts_left,
        grade=grade.grade,
        passed=grade.passed,
    )
