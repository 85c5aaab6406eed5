"""What can go wrong, named for what happened."""

# ruff: noqa: N818


class AiNotesError(Exception):
    """Base of the errors the API maps to problems."""


class NoteNotFound(AiNotesError):
    """No lesson with this id was ever published, or the caller may not see it."""


class NotAllowed(AiNotesError):
    """The caller may not do this (regenerate is for the course owner and admins)."""


class BodyMissing(Exception):
    """The lesson's body is not in the object store."""


class BodyTooLarge(Exception):
    """The lesson's body is larger than this service makes notes of (`max_lesson_bytes`)."""


class StorageUnavailable(Exception):
    """The object store did not answer; the pipeline attempt fails and is retried."""


class RegenerateRateLimited(AiNotesError):
    """The caller asked for more regenerations than the window allows."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"Too many regenerate requests; retry in {retry_after} s.")
        self.retry_after = retry_after


class SearchBusy(AiNotesError):
    """Search's lane to the provider is full: the request is shed, not queued."""
