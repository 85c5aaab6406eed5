"""Events published by the assessment service on `assessment.exams` and `assessment.attempts`."""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from pydantic import AwareDatetime, Field

from edvent_events.contract import Event, KnownValues, register
from edvent_events.exports import UserDataPart
from edvent_events.topics import ASSESSMENT_ATTEMPTS, ASSESSMENT_EXAMS, ASSESSMENT_USER_EXPORTS

SOURCE = "/services/assessment"

# Only the final states: an attempt still in progress never produces this event.
# Text, not a closed set, so that a final state added within v1 reaches old readers.
ATTEMPT_OUTCOMES: Final = ("completed", "expired")
AttemptOutcome = Annotated[str, KnownValues(*ATTEMPT_OUTCOMES)]


@register
class ExamPublished(Event):
    """An exam was published: students can start attempts, and its questions are frozen.

    Emitted once per exam.
    """

    topic = ASSESSMENT_EXAMS
    ce_type = "edvent.assessment.exam.published.v1"
    source = SOURCE
    key_field = "exam_id"

    exam_id: UUID = Field(description="Id of the exam; also the Kafka key and ce_subject.")
    course_id: UUID = Field(description="Id of the course the exam belongs to.")
    title: str = Field(description="Exam title when it was published.")
    question_count: int = Field(
        ge=1, description="Number of questions in the exam (frozen at publication)."
    )
    published_at: AwareDatetime = Field(description="When the exam was published (RFC 3339).")


@register
class AttemptCompleted(Event):
    """A student's exam attempt ended, either submitted in time or closed as expired.

    Emitted once per attempt; a completed attempt never changes afterwards, so there is
    no later correction event.
    """

    topic = ASSESSMENT_ATTEMPTS
    ce_type = "edvent.assessment.attempt.completed.v1"
    source = SOURCE
    key_field = "attempt_id"

    attempt_id: UUID = Field(description="Id of the attempt; also the Kafka key and ce_subject.")
    exam_id: UUID = Field(description="Id of the exam attempted.")
    course_id: UUID = Field(description="Id of the exam's course, so no join on exams is needed.")
    user_id: UUID = Field(description="Id of the identity user (a STUDENT) who made the attempt.")
    status: AttemptOutcome = Field(
        description=(
            "`completed`: answers were submitted before the deadline (plus grace) and "
            "graded. `expired`: the deadline passed first and the attempt was closed."
        )
    )
    score: int = Field(
        ge=0,
        le=100,
        description=(
            "Integer percent (0 to 100) of the exam's points earned, not a count of "
            "points or questions."
        ),
    )
    passed: bool = Field(
        description="Whether score >= the exam's passing_score_percent, as in the HTTP API."
    )
    started_at: AwareDatetime = Field(description="When the student started the attempt.")
    completed_at: AwareDatetime = Field(
        description="When the attempt was submitted, or closed as expired (RFC 3339)."
    )
    # Added within v1 (optional, so older readers and events stay valid).
    ability: float | None = Field(
        default=None,
        description=(
            "Adaptive exams, `completed` only: the final ability estimate in logits "
            "(item response theory; 0 is the average student). Null (or absent) otherwise."
        ),
    )
    standard_error: float | None = Field(
        default=None,
        gt=0,
        description="The standard error of `ability` (logits); set exactly when it is.",
    )


@register
class AssessmentUserDataExported(UserDataPart):
    """assessment's part of a user's data export.

    The user's attempts with their answer sheets, and their grade per exam.
    The answer to `user.export_requested`, sealed so that only identity can read it
    (libs/events README, "Data exports"); a large part comes as several chunks.
    """

    topic = ASSESSMENT_USER_EXPORTS
    ce_type = "edvent.assessment.user_data.exported.v1"
    source = SOURCE
