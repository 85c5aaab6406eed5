"""Events published by the ai-notes service on `ai-notes.notes`."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from edvent_events.contract import Event, register
from edvent_events.exports import UserDataPart
from edvent_events.topics import AI_NOTES_NOTES, AI_NOTES_USER_EXPORTS

SOURCE = "/services/ai-notes"


class KeyConcept(BaseModel):
    """One key concept of a lesson, as extracted by the notes generator."""

    # Same rules as Event: producers may not add fields, readers ignore unknown ones.
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1,
        description="Short name of the concept, e.g. `binary search`; matched case-insensitively.",
    )
    definition: str = Field(description="One- or two-sentence explanation in plain text.")


@register
class NotesGenerated(Event):
    """AI notes for a lesson are ready: generated for the first time or regenerated.

    Emitted each time ai-notes stores new notes for a lesson (after a `LessonPublished`
    with new content, or after a regenerate request). Failed generations are not
    published. The newest event per `lesson_id` describes the current notes; the
    Markdown summary itself is served by the HTTP API (`GET /api/v1/notes/{lesson_id}`).
    """

    topic = AI_NOTES_NOTES
    ce_type = "edvent.ai_notes.notes.generated.v1"
    source = SOURCE
    key_field = "lesson_id"

    lesson_id: UUID = Field(description="Id of the lesson; also the Kafka key and ce_subject.")
    course_id: UUID = Field(description="Id of the lesson's course.")
    model: str = Field(
        min_length=1,
        description=(
            "Identifier of the model that produced the notes, the same as the HTTP API's "
            "`model`: an LLM model name, or the name of the offline local provider."
        ),
    )
    key_concepts: list[KeyConcept] = Field(
        description="Key concepts of the lesson, in the generator's order; may be empty."
    )
    generated_at: AwareDatetime = Field(description="When the notes were generated (RFC 3339).")


@register
class AiNotesUserDataExported(UserDataPart):
    """ai-notes' part of a user's data export.

    What ai-notes knows of the user: the role and session cut-off it checks.
    The answer to `user.export_requested`, sealed so that only identity can read it
    (libs/events README, "Data exports"); a large part comes as several chunks.
    """

    topic = AI_NOTES_USER_EXPORTS
    ce_type = "edvent.ai_notes.user_data.exported.v1"
    source = SOURCE
