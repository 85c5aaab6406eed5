"""ai-notes's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.adapters.providers import ProviderError
from edvent_ai_notes.domain.errors import AiNotesError, NotAllowed, NoteNotFound
from edvent_platform.problems import (
    Forbidden,
    NotFound,
    Problem,
    ServiceUnavailable,
    map_domain_errors,
)

# What a search tells clients to wait when the provider cannot embed the question.
PROVIDER_RETRY_AFTER_SECONDS = 5


def to_problem(error: AiNotesError) -> Problem:
    match error:
        case NoteNotFound():
            return NotFound("No lesson with this id has been published.")
        case NotAllowed():
            return Forbidden(str(error))
    return Problem("An unexpected error occurred.")


def provider_problem(_: ProviderError) -> Problem:
    # A search embeds its question with the provider; when that fails (the openai
    # provider after its own retries) the client is not at fault and may retry.
    return ServiceUnavailable(
        "The embedding provider did not answer; try again shortly.",
        retry_after=PROVIDER_RETRY_AFTER_SECONDS,
    )


def install_error_mapping(app: FastAPI) -> None:
    map_domain_errors(app, AiNotesError, to_problem)
    map_domain_errors(app, ProviderError, provider_problem)
