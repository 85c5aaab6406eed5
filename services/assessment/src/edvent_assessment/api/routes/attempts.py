"""/api/v1/attempts: submitting and reading attempts."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edvent_assessment.api.deps import AssessmentDep, SessionDep, SignedIn
from edvent_assessment.api.errors import attempt_expired
from edvent_assessment.api.schemas import AttemptPublic, SubmitBody, attempt_public, problems
from edvent_assessment.domain.scoring import Answer
from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_platform.problems import as_response

router = APIRouter(prefix="/api/v1/attempts", tags=["attempts"])


@router.post(
    "/{attempt_id}/submit",
    response_model=AttemptPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Submit the answers (the attempt's student)",
    description="Graded on the server against the questions as they were when the "
    "attempt started. Unknown question or option ids, a question answered twice, or "
    "not exactly one option for single choice: 422. After `deadline` + 30 s: 409 and "
    "the attempt is closed as expired (unanswered, score 0). A closed attempt: 409 (of "
    "two simultaneous submits, one completes the attempt and the other gets 409).",
)
async def submit(
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


@router.get(
    "/{attempt_id}",
    responses=problems(401, 404, 422),
    summary="An attempt (its student, the course's owner, ADMIN)",
    description="The student sees the correct answers once the attempt is closed.",
)
async def get_attempt(attempt_id: UUID, actor: SignedIn, session: SessionDep) -> AttemptPublic:
    view = await attempts_usecase.visible_attempt(
        session=session, actor=actor, attempt_id=attempt_id
    )
    return attempt_public(view, actor)
