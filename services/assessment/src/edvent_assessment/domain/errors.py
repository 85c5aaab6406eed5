"""What can go wrong in assessment's use cases; the API maps each kind to one status."""

# Named for what happened (ExamNotFound), like facts, not "...Error".
# ruff: noqa: N818

from __future__ import annotations

from typing import Any


class AssessmentError(Exception):
    """Base of assessment's domain errors."""


class InvalidInput(AssessmentError, ValueError):
    """Input breaks a rule; a ValueError, so request models that call the rule report
    it as an ordinary validation error (422)."""


class InvalidAnswers(AssessmentError):
    """A submission names questions or options the attempt does not have, or repeats
    them; `errors` says where, in the shape of validation errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(error["msg"]) for error in errors))
        self.errors = errors


class CourseUnknown(AssessmentError):
    """No content.courses event about this course has been handled yet."""


class ExamNotFound(AssessmentError):
    """No such exam, or a draft the caller may not see."""


class AttemptNotFound(AssessmentError):
    """No such attempt, or one the caller may not see."""


class CourseArchived(AssessmentError):
    """The exam's course is archived: it takes no new attempts."""


class ExamNotOpen(AssessmentError):
    """A start outside the exam's window (`opens_at`, `closes_at`)."""

    def __init__(self, *, before: bool) -> None:
        super().__init__("the exam is not open yet" if before else "the exam is closed")
        self.before = before


class NoAttemptsLeft(AssessmentError):
    """The student has started `max_attempts` attempts at the exam already."""

    def __init__(self, max_attempts: int) -> None:
        super().__init__(f"all {max_attempts} attempts are used")
        self.max_attempts = max_attempts


class NotAllowed(AssessmentError):
    """The caller sees the resource but may not do this to it."""


class ExamNotDraft(AssessmentError):
    """Questions are frozen once the exam is published."""


class ExamHasNoQuestions(AssessmentError):
    """An exam needs a question before it can be published."""


class AttemptClosed(AssessmentError):
    def __init__(self, status: str) -> None:
        super().__init__(f"the attempt is {status} already")
        self.status = status


class WrongMode(AssessmentError):
    """An adaptive attempt is answered one question at a time and cannot be submitted;
    a fixed one is submitted at once and takes no single answers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class QuestionNotServed(AssessmentError):
    """An adaptive attempt got an answer to a question it has not served."""


class QuestionAnswered(AssessmentError):
    """An adaptive attempt got a second answer to a question."""
