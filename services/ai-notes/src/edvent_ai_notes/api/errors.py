"""ai-notes's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.domain.errors import AiNotesError, NotAllowed, NoteNotFound
from edvent_platform.problems import Forbidden, NotFound, Problem, map_domain_errors


def to_problem(error: AiNotesError) -> Problem:
    match error:
        case NoteNotFound():
            return NotFound("No lesson with this id has been published.")
        case NotAllowed():
            return Forbidden(str(error))
    return Problem("An unexpected error occurred.")


def install_error_mapping(app: FastAPI) -> None:
    map_domain_errors(app, AiNotesError, to_problem)
