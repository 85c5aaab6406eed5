"""assessment's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from edvent_assessment.domain.errors import (
    AssessmentError,
    AttemptClosed,
    AttemptNotFound,
    CourseArchived,
    CourseUnknown,
    ExamHasNoQuestions,
    ExamNotDraft,
    ExamNotFound,
    ExamNotOpen,
    InvalidAnswers,
    InvalidInput,
    NoAttemptsLeft,
    NotAllowed,
    QuestionAnswered,
    QuestionNotServed,
    WrongMode,
)
from edvent_platform.problems import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    UnprocessableContent,
    map_domain_errors,
)

# Problem types of the 409s a client may want to tell apart (RFC 9457 `type`).
PROBLEM_TYPES = "https://edvent.example/problems/"


class MaxAttemptsReached(Conflict):
    type = PROBLEM_TYPES + "max-attempts-reached"
    title = "No attempts left"


class ExamNotOpenYet(Conflict):
    type = PROBLEM_TYPES + "exam-not-open-yet"
    title = "The exam is not open yet"


class ExamClosed(Conflict):
    type = PROBLEM_TYPES + "exam-closed"
    title = "The exam is closed"


class ExamArchived(Conflict):
    type = PROBLEM_TYPES + "course-archived"
    title = "The course is archived"


def attempt_expired() -> Problem:
    """A submission after deadline + grace (the attempt was closed as expired)."""
    return Conflict(
        "The deadline (plus its grace) has passed: the answers were not accepted and the "
        "attempt is closed as expired."
    )


def to_problem(error: AssessmentError, *, retry_after: int) -> Problem:
    match error:
        case CourseUnknown():
            return Conflict(
                "This course is not known here yet (its creation event has not arrived); "
                "try again shortly.",
                headers={"Retry-After": str(retry_after)},
            )
        case ExamNotFound():
            return NotFound("There is no exam with this id.")
        case AttemptNotFound():
            return NotFound("There is no attempt with this id.")
        case NotAllowed():
            return Forbidden(str(error))
        case NoAttemptsLeft(max_attempts=max_attempts):
            return MaxAttemptsReached(
                f"Every one of the {max_attempts} attempts this exam allows has been "
                "started (expired ones count).",
                extra={"max_attempts": max_attempts},
            )
        case ExamNotOpen(before=True):
            return ExamNotOpenYet("The exam opens at its `opens_at`; no attempt starts before.")
        case ExamNotOpen():
            return ExamClosed("The exam closed at its `closes_at`; no attempt starts after.")
        case CourseArchived():
            return ExamArchived("The exam's course is archived: it takes no new attempts.")
        case ExamNotDraft():
            return Conflict("The exam is published: its questions are frozen.")
        case ExamHasNoQuestions():
            return Conflict("An exam needs at least one question before it is published.")
        case AttemptClosed(status=status):
            return Conflict(f"The attempt is {status} already; a closed attempt never changes.")
        case WrongMode():
            return Conflict(str(error))
        case QuestionNotServed():
            return Conflict("This question has not been served in this attempt.")
        case QuestionAnswered():
            return Conflict("This question is answered already; an answer never changes.")
        case InvalidAnswers(errors=errors):
            return UnprocessableContent(
                "The answers do not fit the attempt's questions; see errors.",
                extra={"errors": errors},
            )
        case InvalidInput():
            return UnprocessableContent(
                str(error)[:1].upper() + str(error)[1:] + ".",
                extra={"errors": [{"loc": ["body"], "msg": str(error), "type": "value_error"}]},
            )
    return Problem("An unexpected error occurred.")


def install_error_mapping(app: FastAPI, *, retry_after: int) -> None:
    map_domain_errors(app, AssessmentError, partial(to_problem, retry_after=retry_after))
