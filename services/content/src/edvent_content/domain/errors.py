"""What can go wrong in content's use cases; the API maps each kind to one status."""

# Named for what happened (CourseNotFound), like facts, not "...Error".
# ruff: noqa: N818

from __future__ import annotations


class ContentError(Exception):
    """Base of content's domain errors."""


class InvalidInput(ContentError, ValueError):
    """Input breaks a rule (empty title, body not UTF-8, ...); a ValueError, so request
    models that call the rule report it as an ordinary validation error (422)."""


class CourseNotFound(ContentError):
    """No such course, or one the caller may not see (drafts do not leak)."""


class LessonNotFound(ContentError):
    """No such lesson, or one the caller may not see."""


class NotAllowed(ContentError):
    """The caller sees the resource but may not do this to it."""


class CourseArchived(ContentError):
    """The course is archived, and this would publish or unpublish something in it."""


class OwnerNotEligible(ContentError):
    """The new owner of a course is unknown, erased, or not an INSTRUCTOR or ADMIN."""


class OrderIndexTaken(ContentError):
    def __init__(self, order_index: int) -> None:
        super().__init__(f"order_index {order_index} is taken in this course")
        self.order_index = order_index


class NoPlaceAfterLast(ContentError):
    """The last lesson sits at the largest order_index: nothing can be appended."""

    def __init__(self) -> None:
        super().__init__("the last lesson has the largest order_index; give one explicitly")


class ContentTooLarge(ContentError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a lesson body may have at most {limit} bytes")
        self.limit = limit


class StorageUnavailable(ContentError):
    """The object store cannot be reached or refused the request; try again later."""


class ContentMissing(ContentError):
    """A lesson names an object the store does not have (should never happen)."""
