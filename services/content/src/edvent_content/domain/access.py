"""Who sees and who changes courses and lessons.

Anonymous callers and students see published courses that are not archived, and the
published lessons of those. An instructor also sees and manages their own courses,
drafts and archived ones included (owner rights need the INSTRUCTOR role: a demoted
owner keeps none). An admin sees and manages everything. What a caller may not see
does not exist for them (not found, never "forbidden"), so drafts do not leak; what
they see but may not change is forbidden. CONTRACT.md "Who may see what";
tests-e2e/access_cases.yaml holds the cases the unit tests run against this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from edvent_content.domain.errors import CourseArchived, CourseNotFound, LessonNotFound, NotAllowed


class Role(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


AUTHOR_ROLES = frozenset({Role.INSTRUCTOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in caller, with the role that counts now (see `usecases.users.actor_for`)."""

    user_id: UUID
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_author(self) -> bool:
        return self.role in AUTHOR_ROLES


@dataclass(frozen=True, slots=True)
class CourseFacts:
    owner_id: UUID
    is_published: bool
    archived: bool = False

    @property
    def listed(self) -> bool:
        """Shown to everyone: published and not archived (archived wins)."""
        return self.is_published and not self.archived


@dataclass(frozen=True, slots=True)
class CourseFilter:
    """Which courses a list may show: published, unarchived ones (`CourseFacts.listed`),
    plus those of `also_owner`, or all."""

    everything: bool = False
    also_owner: UUID | None = None


def may_manage(actor: Actor | None, course: CourseFacts) -> bool:
    """Owner (while an author: a demoted instructor keeps no rights) or admin."""
    if actor is None:
        return False
    return actor.is_admin or (actor.role == Role.INSTRUCTOR and actor.user_id == course.owner_id)


def may_see_course(actor: Actor | None, course: CourseFacts) -> bool:
    return course.listed or may_manage(actor, course)


def may_see_lesson(actor: Actor | None, course: CourseFacts, *, lesson_published: bool) -> bool:
    if may_manage(actor, course):
        return True
    return course.listed and lesson_published


def check_course_visible(actor: Actor | None, course: CourseFacts) -> None:
    if not may_see_course(actor, course):
        raise CourseNotFound


def check_course_manageable(actor: Actor | None, course: CourseFacts) -> None:
    check_course_visible(actor, course)
    if not may_manage(actor, course):
        raise NotAllowed("Only the course's owner or an ADMIN may change it.")


def check_lesson_visible(actor: Actor | None, course: CourseFacts, *, published: bool) -> None:
    if not may_see_lesson(actor, course, lesson_published=published):
        raise LessonNotFound


def check_lesson_manageable(actor: Actor | None, course: CourseFacts, *, published: bool) -> None:
    check_lesson_visible(actor, course, published=published)
    if not may_manage(actor, course):
        raise NotAllowed("Only the course's owner or an ADMIN may change its lessons.")


def check_may_change_owner(actor: Actor) -> None:
    """Moving a course to another owner is an ADMIN's act (say, before an erasure)."""
    if not actor.is_admin:
        raise NotAllowed("Only an ADMIN may give a course another owner.")


def may_own_courses(role: str | None, *, erased: bool) -> bool:
    """Whether a user may become a course's owner: their current role is an author's."""
    return not erased and role in AUTHOR_ROLES


def check_not_archived(course: CourseFacts, *, doing: str) -> None:
    """Archiving is final: nothing in an archived course is published or unpublished
    again, so it cannot come back to students by a slip (there is no unarchive)."""
    if course.archived:
        raise CourseArchived(f"The course is archived; {doing} is not possible any more.")


def check_may_author(actor: Actor) -> None:
    if not actor.is_author:
        raise NotAllowed("Creating a course needs the role INSTRUCTOR or ADMIN.")


def course_filter(actor: Actor | None) -> CourseFilter:
    if actor is None:
        return CourseFilter()
    if actor.is_admin:
        return CourseFilter(everything=True)
    if actor.role == Role.INSTRUCTOR:
        return CourseFilter(also_owner=actor.user_id)
    return CourseFilter()


def lessons_visible_unpublished(actor: Actor | None, course: CourseFacts) -> bool:
    """Whether a lesson list of `course` includes unpublished lessons for `actor`."""
    return may_manage(actor, course)
