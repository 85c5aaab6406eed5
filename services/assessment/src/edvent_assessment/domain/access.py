"""Who sees and who manages exams and attempts (CONTRACT.md "Who may see what").

A course's owner (while an INSTRUCTOR) and ADMINs manage the course's exams: add
questions, publish, read every attempt, the grades and the analytics, see correct
answers. Other signed-in users see a published exam of a published, unarchived course,
never its correct answers. Only STUDENTs take exams, and a student sees only their own
attempts, with the correct answers as the exam's `review` setting allows. What a caller
may not see does not exist for them (404); what they see but may not do is forbidden
(403). The facts come from reference data fed by events: the course's owner, published
and archived state from content.courses, the caller's role from identity.users.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from edvent_assessment.domain.errors import (
    AttemptNotFound,
    CourseArchived,
    ExamNotFound,
    NotAllowed,
)


class Role(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in caller, with the role that counts now (see `usecases.users.actor_for`)."""

    user_id: UUID
    role: str
    # Whether the users reference table has the caller's row already (found by the role
    # lookup in this transaction): then starting an attempt need not insert it.
    known: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class ExamFacts:
    owner_id: UUID  # the course's owner
    published: bool  # the exam
    course_published: bool
    course_archived: bool

    @property
    def open_to_students(self) -> bool:
        """Seen by every signed-in user: a published exam of a published, unarchived course."""
        return self.published and self.course_published and not self.course_archived


@dataclass(frozen=True, slots=True)
class ExamFilter:
    """Which exams a list may show, as `db.exams.page` turns it into SQL: those open to
    students (`ExamFacts.open_to_students`), plus every exam of `also_owner`'s courses,
    or all."""

    everything: bool = False
    also_owner: UUID | None = None


def may_manage(actor: Actor, owner_id: UUID) -> bool:
    """The course's owner while an instructor (a demoted one keeps no rights), or an admin."""
    return actor.is_admin or (actor.role == Role.INSTRUCTOR and actor.user_id == owner_id)


def check_may_create_exam(actor: Actor, owner_id: UUID) -> None:
    if not may_manage(actor, owner_id):
        raise NotAllowed("Only the course's owner or an ADMIN may add exams to it.")


def check_may_author(actor: Actor) -> None:
    if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise NotAllowed("Creating an exam needs the role INSTRUCTOR or ADMIN.")


def check_exam_visible(actor: Actor, exam: ExamFacts) -> None:
    if not (exam.open_to_students or may_manage(actor, exam.owner_id)):
        raise ExamNotFound


def check_exam_manageable(actor: Actor, exam: ExamFacts) -> None:
    check_exam_visible(actor, exam)
    if not may_manage(actor, exam.owner_id):
        raise NotAllowed("Only the course's owner or an ADMIN may do this.")


def check_may_start(actor: Actor, exam: ExamFacts, *, took_it_before: bool = False) -> None:
    """Students start attempts on the exams they see. An archived course's exams take no
    new attempts: a student who took the exam before learns why (409); to anyone else
    the exam does not exist, as for reading it."""
    if exam.course_archived and exam.published and took_it_before and actor.role == Role.STUDENT:
        raise CourseArchived
    check_exam_visible(actor, exam)
    if actor.role != Role.STUDENT:
        raise NotAllowed("Only STUDENTs take exams.")
    if not exam.open_to_students:
        raise ExamNotFound


def check_attempt_visible(actor: Actor, *, student_id: UUID, owner_id: UUID) -> None:
    if actor.user_id != student_id and not may_manage(actor, owner_id):
        raise AttemptNotFound


def check_may_submit(actor: Actor, *, student_id: UUID, owner_id: UUID) -> None:
    check_attempt_visible(actor, student_id=student_id, owner_id=owner_id)
    if actor.user_id != student_id:
        raise NotAllowed("Only the student who started the attempt may answer it.")


def sees_correct_answers(
    actor: Actor, *, owner_id: UUID, attempt_closed: bool, review_allows: bool
) -> bool:
    """In an attempt the caller may see: managers always; its student only once it is
    closed and as the exam's `review` setting allows (`settings.review_allowed`)."""
    return may_manage(actor, owner_id) or (attempt_closed and review_allows)


def check_may_read_own_grade(actor: Actor, exam: ExamFacts, *, took_it: bool) -> None:
    """A student's own grade: on an exam they see, or one they took (an archived
    course's exam keeps its grades readable to its students)."""
    if not took_it:
        check_exam_visible(actor, exam)
    if actor.role != Role.STUDENT:
        raise NotAllowed("Only STUDENTs have grades.")


def exam_filter(actor: Actor) -> ExamFilter:
    if actor.is_admin:
        return ExamFilter(everything=True)
    if actor.role == Role.INSTRUCTOR:
        return ExamFilter(also_owner=actor.user_id)
    return ExamFilter()
