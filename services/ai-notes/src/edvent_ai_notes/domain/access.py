"""Who sees a lesson's note, its key concepts and its search passages, and who may
regenerate it (CONTRACT.md "Who may see what").

A lesson's note is served as its lesson is: to everyone signed in when the lesson is
published and its course is published and not archived; otherwise only to the
course's owner (while an INSTRUCTOR: a demoted owner keeps no rights) and ADMINs.
What a caller may not see does not exist for them (404; lists and searches leave it
out); what they see but may not do is forbidden (403). A course ai-notes has not
heard of yet counts as a draft with no owner: only ADMINs see its lessons until
`course.created`/`course.published` arrive.

Reads of one note use `check_note_visible`; lists and searches turn `note_filter`
into SQL (db/notes.py, `visible_lessons`), so both follow the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from edvent_ai_notes.domain.errors import NotAllowed, NoteNotFound


class Role(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in caller, with the role that counts now (see `usecases.users.actor_for`)."""

    user_id: UUID
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """What ai-notes knows of a lesson and its course, from content's events."""

    owner_id: UUID | None  # None: the course was never seen
    course_published: bool  # published and not unpublished since
    course_archived: bool
    lesson_published: bool  # published and not unpublished since


@dataclass(frozen=True, slots=True)
class NoteFilter:
    """Which lessons a list or search may show: those served to everyone, plus those of
    `also_owner`'s courses, or all."""

    everything: bool = False
    also_owner: UUID | None = None


def may_manage(actor: Actor, owner_id: UUID | None) -> bool:
    """The course's owner while an INSTRUCTOR, or an ADMIN."""
    return actor.is_admin or (
        owner_id is not None and actor.role == Role.INSTRUCTOR and actor.user_id == owner_id
    )


def served_to_everyone(lesson: LessonFacts) -> bool:
    return lesson.lesson_published and lesson.course_published and not lesson.course_archived


def may_see_note(actor: Actor, lesson: LessonFacts) -> bool:
    return served_to_everyone(lesson) or may_manage(actor, lesson.owner_id)


def check_note_visible(actor: Actor, lesson: LessonFacts) -> None:
    if not may_see_note(actor, lesson):
        raise NoteNotFound


def check_may_regenerate(actor: Actor, lesson: LessonFacts) -> None:
    check_note_visible(actor, lesson)
    if not may_manage(actor, lesson.owner_id):
        raise NotAllowed("Only the course's owner or an ADMIN may regenerate its notes.")


def sees_failure_details(actor: Actor, lesson: LessonFacts) -> bool:
    """A failed note's reason names storage keys and provider errors: operators only."""
    return may_manage(actor, lesson.owner_id)


def note_filter(actor: Actor) -> NoteFilter:
    if actor.is_admin:
        return NoteFilter(everything=True)
    if actor.role == Role.INSTRUCTOR:
        return NoteFilter(also_owner=actor.user_id)
    return NoteFilter()


def content_key_belongs(*, key: str, course_id: UUID, lesson_id: UUID) -> bool:
    """Whether `key` lies under the lesson's own prefix, where content stores its bodies
    (`courses/<course_id>/lessons/<lesson_id>/<sha256>.md`): an event naming any other
    object is not content's to send (CONTRACT.md, the broker's door)."""
    prefix = f"courses/{course_id}/lessons/{lesson_id}/"
    rest = key.removeprefix(prefix)
    return (
        key.startswith(prefix)
        and rest != ""
        and "/" not in rest
        and rest not in (".", "..")
        and all(ch.isprintable() for ch in rest)
    )
