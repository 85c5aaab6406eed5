"""content's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from edvent_content.domain.errors import (
    ContentError,
    ContentMissing,
    ContentTooLarge,
    CourseArchived,
    CourseNotFound,
    InvalidInput,
    LessonNotFound,
    NoPlaceAfterLast,
    NotAllowed,
    OrderIndexTaken,
    OwnerNotEligible,
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
    map_domain_errors,
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
        case CourseArchived():
            return Conflict(str(error))
        case OwnerNotEligible():
            return UnprocessableContent(
                str(error)[:1].upper() + str(error)[1:] + ".",
                extra={
                    "errors": [
                        {"loc": ["body", "owner_id"], "msg": str(error), "type": "value_error"}
                    ]
                },
            )
        case NoPlaceAfterLast():
            return Conflict(f"{error}.")
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
    map_domain_errors(app, ContentError, partial(to_problem, retry_after=retry_after))
