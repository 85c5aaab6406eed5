"""/api/v1/attempts: submitting and reading attempts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from edvent_assessment.api.deps import AssessmentDep, PageAfter, SessionDep, SignedIn
from edvent_assessment.api.errors import attempt_expired
from edvent_assessment.api.schemas import (
    AnswerBody,
    AnswerResult,
    AttemptList,
    AttemptPublic,
    SubmitBody,
    attempt_list,
    attempt_public,
    attempt_question,
)
from edvent_assessment.domain.scoring import Answer
from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_platform.openapi import problem_responses
from edvent_platform.problems import as_response

router = APIRouter(prefix="/api/v1/attempts", tags=["attempts"])


@router.get(
    "",
    summary="The caller's own attempts, newest first (signed in)",
    description="Every attempt the caller started, at any exam, open or closed; "
    "`exam_id` narrows them to one exam. Only students take exams, so for other roles "
    "the list is empty. Closed attempts carry the correct answers as the exam's `review` "
    "setting allows, as `GET /attempts/{id}` does.",
)
async def list_own_attempts(
    actor: SignedIn,
    session: SessionDep,
    after: PageAfter,
    exam_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
) -> AttemptList:
    page = await attempts_usecase.own_attempts(
        session=session, actor=actor, exam_id=exam_id, limit=limit, after=after
    )
    return attempt_list(page, actor)


@router.post(
    "/{attempt_id}/submit",
    response_model=AttemptPublic,
    responses=problem_responses(403, 404, 409),
    summary="Submit the answers (the attempt's student)",
    description="Graded on the server against the questions as they were when the "
    "attempt started. Unknown question or option ids, a question answered twice, or "
    "not exactly one option for single choice: 422. After `deadline` + 30 s: 409 and "
    "the attempt is closed as expired (unanswered, score 0). A closed attempt: 409 (of "
    "two simultaneous submits, one completes the attempt and the other gets 409). An "
    "adaptive attempt cannot be submitted (409): it completes by its stop rules. The "
    "answer shows the correct answers only as the exam's `review` setting allows.",
)
async def submit_attempt(
    attempt_id: UUID,
    body: SubmitBody,
    actor: SignedIn,
    session: SessionDep,
    assessment: AssessmentDep,
) -> AttemptPublic | JSONResponse:
    submitted = await attempts_usecase.submit_attempt(
        session=session,
        actor=actor,
        attempt_id=attempt_id,
        answers=[Answer(a.question_id, tuple(a.option_ids)) for a in body.answers],
        grace=assessment.grace,
    )
    if submitted.expired:
        # Returned, not raised: the request's unit of work commits only when the route
        # returns, and closing the attempt as expired must be kept.
        return as_response(attempt_expired())
    return attempt_public(submitted.view, actor)


@router.post(
    "/{attempt_id}/answers",
    response_model=AnswerResult,
    responses=problem_responses(403, 404, 409),
    summary="Answer the current question of an adaptive attempt (the attempt's student)",
    description="Records the answer with the ability estimate after it and returns the "
    "next question, or `next_question: null` and the completed attempt once a stop rule "
    "holds (standard error at the target after `min_items`, `max_items`, or no question "
    "left). A question not served, or answered already: 409. An attempt of a fixed exam, "
    "or a closed one: 409. After `deadline` + 30 s: 409 and the attempt is closed as "
    "expired. Simultaneous answers are taken one after the other.",
)
async def answer_question(
    attempt_id: UUID,
    body: AnswerBody,
    actor: SignedIn,
    session: SessionDep,
    assessment: AssessmentDep,
) -> AnswerResult | JSONResponse:
    answered = await attempts_usecase.answer_question(
        session=session,
        actor=actor,
        attempt_id=attempt_id,
        answer=Answer(body.question_id, tuple(body.option_ids)),
        grace=assessment.grace,
        banks=assessment.banks,
    )
    if answered.expired:
        # Returned, not raised, as for submit: the expiry must be committed.
        return as_response(attempt_expired())
    return AnswerResult(
        attempt=attempt_public(answered.view, actor),
        next_question=(
            attempt_question(answered.next_question) if answered.next_question else None
        ),
    )


@router.get(
    "/{attempt_id}",
    responses=problem_responses(404),
    summary="An attempt (its student, the course's owner, ADMIN)",
    description="The student sees the correct answers and per-question correctness once "
    "the attempt is closed, as the exam's `review` setting allows (`after_submit`, "
    "`after_close`: once `closes_at` has passed or the course is archived, `never`); "
    "score and passed always. The course's owner and ADMINs see everything.",
)
async def get_attempt(attempt_id: UUID, actor: SignedIn, session: SessionDep) -> AttemptPublic:
    view = await attempts_usecase.visible_attempt(
        session=session, actor=actor, attempt_id=attempt_id
    )
    return attempt_public(view, actor)
