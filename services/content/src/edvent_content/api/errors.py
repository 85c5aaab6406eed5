"""content's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from edvent_content.domain.errors import (
    ContentError,
    ContentMissing,
    ContentTooLarge,
    CourseNotFound,
    InvalidInput,
    LessonNotFound,
    NotAllowed,
    OrderIndexTaken,
    StorageUnavailable,
)
from edvent_platform.problems import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    UnprocessableContent,
    problem_response,
)


def to_problem(error: ContentError, *, retry_after: int) -> Problem:
    match error:
        case CourseNotFound():
            return NotFound("There is no course with this id.")
        case LessonNotFound():
            return NotFound("There is no lesson with this id.")
        case NotAllowed():
            return Forbidden(str(error))
        case OrderIndexTaken():
            return Conflict(f"{error}; choose another or leave it out to append the lesson.")
        case ContentTooLarge(limit=limit):
            return PayloadTooLarge(f"A lesson body may have at most {limit} bytes.")
        case InvalidInput():
            return UnprocessableContent(
                str(error)[:1].upper() + str(error)[1:] + ".",
                extra={"errors": [{"loc": ["body"], "msg": str(error), "type": "value_error"}]},
            )
        case StorageUnavailable():
            return ServiceUnavailable(
                "Lesson storage is unavailable; nothing was changed. Try again shortly.",
                retry_after=retry_after,
            )
        case ContentMissing():
            return Problem("The lesson's body is missing from storage.")
    return Problem("An unexpected error occurred.")


def install_error_mapping(app: FastAPI, *, retry_after: int) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ContentError)
        problem = to_problem(exc, retry_after=retry_after)
        return problem_response(
            problem.status,
            problem.title,
            problem.detail,
            type_=problem.type,
            headers=problem.headers,
            extra=problem.extra,
        )

    app.add_exception_handler(ContentError, handle)
