"""What can go wrong, named for what happened."""

# ruff: noqa: N818


class AiNotesError(Exception):
    """Base of the errors the API maps to problems."""


class NoteNotFound(AiNotesError):
    """No lesson with this id was ever published (so it has no note)."""


class NotAllowed(AiNotesError):
    """The caller may not do this (regenerate is for the course owner and admins)."""


class BodyMissing(Exception):
    """The lesson's body is not in the object store."""


class BodyTooLarge(Exception):
    """The lesson's body is larger than this service makes notes of (`max_lesson_bytes`)."""


class StorageUnavailable(Exception):
    """The object store did not answer; the pipeline attempt fails and is retried."""
