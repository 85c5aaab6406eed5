"""ai-notes's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.adapters.providers import ProviderError
from edvent_ai_notes.domain.errors import (
    AiNotesError,
    NotAllowed,
    NoteNotFound,
    RegenerateRateLimited,
    SearchBusy,
)
from edvent_ai_notes.limits import Busy
from edvent_platform.problems import (
    Forbidden,
    NotFound,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    map_domain_errors,
)

# What a search tells clients to wait when the provider cannot embed the question.
PROVIDER_RETRY_AFTER_SECONDS = 5
# What a search shed by its limiter tells clients to wait.
SEARCH_BUSY_RETRY_AFTER_SECONDS = 2


def to_problem(error: AiNotesError) -> Problem:
    match error:
        case NoteNotFound():
            return NotFound("No note of a lesson you may see has this id.")
        case NotAllowed():
            return Forbidden(str(error))
        case RegenerateRateLimited():
            return TooManyRequests(str(error), retry_after=error.retry_after)
        case SearchBusy():
            return ServiceUnavailable(
                "Search is busy; try again shortly.", retry_after=SEARCH_BUSY_RETRY_AFTER_SECONDS
            )
    return Problem("An unexpected error occurred.")


def provider_problem(_: ProviderError) -> Problem:
    # A search embeds its question with the provider; when that fails (the openai
    # provider after its own retries) the client is not at fault and may retry.
    return ServiceUnavailable(
        "The embedding provider did not answer; try again shortly.",
        retry_after=PROVIDER_RETRY_AFTER_SECONDS,
    )


def busy_problem(_: Busy) -> Problem:
    return to_problem(SearchBusy())


def install_error_mapping(app: FastAPI) -> None:
    map_domain_errors(app, AiNotesError, to_problem)
    map_domain_errors(app, Busy, busy_problem)
    map_domain_errors(app, ProviderError, provider_problem)
