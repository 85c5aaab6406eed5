"""One valid, deterministic sample per event type, for tests and the generated docs.

Fixed ids and times keep the generated AsyncAPI examples stable between runs. Each
factory takes field overrides, validated like any other event, so a test states only
what it cares about: `lesson_published(order_index=3)`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from edvent_events.catalog import (
    CATALOG,
    AiNotesUserDataExported,
    AssessmentUserDataExported,
    AttemptCompleted,
    ContentUserDataExported,
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
    ExamPublished,
    LessonDeleted,
    LessonPublished,
    LessonUnpublished,
    NotesGenerated,
    UserDeleted,
    UserDisabled,
    UserExportRequested,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.contract import Event

E = TypeVar("E", bound=Event)

STUDENT_ID = UUID("0b8e2a4c-5d21-4f6e-9a10-3c7d2e8f1a01")
INSTRUCTOR_ID = UUID("0b8e2a4c-5d21-4f6e-9a10-3c7d2e8f1a02")
OTHER_INSTRUCTOR_ID = UUID("0b8e2a4c-5d21-4f6e-9a10-3c7d2e8f1a03")
COURSE_ID = UUID("1c9f3b5d-6e32-4a7f-8b21-4d8e3f9a2b01")
LESSON_ID = UUID("2d0a4c6e-7f43-4b8a-9c32-5e9f4a0b3c01")
EXAM_ID = UUID("3e1b5d7f-8a54-4c9b-8d43-6f0a5b1c4d01")
ATTEMPT_ID = UUID("4f2c6e8a-9b65-4dac-9e54-7a1b6c2d5e01")
EXPORT_ID = UUID("6b4e8a0c-bd87-4fce-9a76-9c3d8e4f7a01")
# The public half of the X25519 key made from bytes 0..31, and each service's part
# sealed to it (random ephemeral key and nonce, made once, so the documents stay stable).
EXPORT_PRIVATE_KEY = bytes(range(32))
EXPORT_PUBLIC_KEY = "j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8"
SEALED_PARTS = {
    "content": (
        "T0ZHsCLARoSlEagmPdFgmfqrKfCNtSViV98rE5hoqyPb3v8AmPEN6oN88ihekMPUIvXIYw"
        "Dti_d_MJUWo0Qxb7rs_Vv1cATCpI-q6Z2ZwTQZmg"
    ),
    "assessment": (
        "L1NZMYydqcr6v-3U8sKD86JCRjePn1iZ9Zlcx59kFx8ZbU4A1v4epxae5FOWITddIa2NDA"
        "GP9txjzQAOSOyGhzJ7Hz7LflYNjyPqeCB5iUcuKpPAOOHNcHLefQ"
    ),
    "ai-notes": (
        "ejRvVlWlUH9R54zT7nLU02fuNk86f1Oy9Yvwyz1RT3KZo3QLBafwRCIcmlvFPN6jh5mQio"
        "6PuGQy6UroKyWclmaob9jS6W7e1Mh1RcvsHB51FV59W-Na2Di1GsYgXVCHYlCEBfc"
    ),
}

# Envelope attributes of the documented example messages.
EVENT_ID = "5a3d7f9b-ac76-4ebd-8f65-8b2c7d3e6f01"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0.replace(minute=minutes)


def _make(cls: type[E], defaults: dict[str, Any], overrides: dict[str, Any]) -> E:
    return cls.model_validate({**defaults, **overrides})


# The sample user's data key (bytes 0..31), so the documented example opens with
# `edvent_events.pii.decrypt`: "ada@example.com" and "Ada Lovelace", sealed with fixed
# nonces so the generated docs stay the same between runs.
SAMPLE_USER_KEY = bytes(range(32))


def user_registered(**overrides: Any) -> UserRegistered:
    defaults = {
        "user_id": STUDENT_ID,
        "email": "enc:v1:AQEBAQEBAQEBAQEBFqeEdQ39CQukOAI2ewg_Svm6-S7daDYYHax7I5lEHg",
        "role": "STUDENT",
        "registered_at": _at(0),
        "full_name": "enc:v1:AgICAgICAgICAgIC2kx4m_W2Rz6n5MGd_VQXm7YLIPeLuU4sptjR9A",
    }
    return _make(UserRegistered, defaults, overrides)


def user_role_changed(**overrides: Any) -> UserRoleChanged:
    defaults = {
        "user_id": INSTRUCTOR_ID,
        "old_role": "STUDENT",
        "new_role": "INSTRUCTOR",
        "changed_at": _at(1),
    }
    return _make(UserRoleChanged, defaults, overrides)


def course_created(**overrides: Any) -> CourseCreated:
    defaults = {
        "course_id": COURSE_ID,
        "owner_id": INSTRUCTOR_ID,
        "title": "Algorithms 101",
        "created_at": _at(2),
    }
    return _make(CourseCreated, defaults, overrides)


def course_published(**overrides: Any) -> CoursePublished:
    defaults = {
        "course_id": COURSE_ID,
        "owner_id": INSTRUCTOR_ID,
        "title": "Algorithms 101",
        "published_at": _at(10),
    }
    return _make(CoursePublished, defaults, overrides)


def lesson_published(**overrides: Any) -> LessonPublished:
    defaults = {
        "lesson_id": LESSON_ID,
        "course_id": COURSE_ID,
        "title": "Binary search",
        "order_index": 0,
        "content_key": f"courses/{COURSE_ID}/lessons/{LESSON_ID}/"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.md",
        # sha256 of the empty string: any 64 lower-case hex digits would do.
        "content_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "published_at": _at(11),
    }
    return _make(LessonPublished, defaults, overrides)


def exam_published(**overrides: Any) -> ExamPublished:
    defaults = {
        "exam_id": EXAM_ID,
        "course_id": COURSE_ID,
        "title": "Searching and sorting",
        "question_count": 10,
        "published_at": _at(20),
    }
    return _make(ExamPublished, defaults, overrides)


def attempt_completed(**overrides: Any) -> AttemptCompleted:
    defaults = {
        "attempt_id": ATTEMPT_ID,
        "exam_id": EXAM_ID,
        "course_id": COURSE_ID,
        "user_id": STUDENT_ID,
        "status": "completed",
        "score": 80,
        "passed": True,
        "started_at": _at(30),
        "completed_at": _at(52),
    }
    return _make(AttemptCompleted, defaults, overrides)


def notes_generated(**overrides: Any) -> NotesGenerated:
    defaults = {
        "lesson_id": LESSON_ID,
        "course_id": COURSE_ID,
        "model": "local",
        "key_concepts": [
            {
                "name": "binary search",
                "definition": "Finding a value in a sorted list by halving the range each step.",
            },
            {
                "name": "invariant",
                "definition": "A condition that holds before and after every loop iteration.",
            },
        ],
        "generated_at": _at(12),
    }
    return _make(NotesGenerated, defaults, overrides)


def user_deleted(**overrides: Any) -> UserDeleted:
    return _make(UserDeleted, {"user_id": STUDENT_ID, "deleted_at": _at(58)}, overrides)


def user_sessions_revoked(**overrides: Any) -> UserSessionsRevoked:
    defaults = {"user_id": STUDENT_ID, "not_before": _at(55), "reason": "password_changed"}
    return _make(UserSessionsRevoked, defaults, overrides)


def user_disabled(**overrides: Any) -> UserDisabled:
    defaults = {"user_id": STUDENT_ID, "disabled": True, "changed_at": _at(56)}
    return _make(UserDisabled, defaults, overrides)


def course_unpublished(**overrides: Any) -> CourseUnpublished:
    return _make(CourseUnpublished, {"course_id": COURSE_ID, "unpublished_at": _at(40)}, overrides)


def course_archived(**overrides: Any) -> CourseArchived:
    return _make(CourseArchived, {"course_id": COURSE_ID, "archived_at": _at(45)}, overrides)


def course_owner_changed(**overrides: Any) -> CourseOwnerChanged:
    defaults = {
        "course_id": COURSE_ID,
        "old_owner_id": INSTRUCTOR_ID,
        "new_owner_id": OTHER_INSTRUCTOR_ID,
        "changed_at": _at(42),
    }
    return _make(CourseOwnerChanged, defaults, overrides)


def lesson_unpublished(**overrides: Any) -> LessonUnpublished:
    defaults = {"lesson_id": LESSON_ID, "course_id": COURSE_ID, "unpublished_at": _at(41)}
    return _make(LessonUnpublished, defaults, overrides)


def lesson_deleted(**overrides: Any) -> LessonDeleted:
    defaults = {"lesson_id": LESSON_ID, "course_id": COURSE_ID, "deleted_at": _at(43)}
    return _make(LessonDeleted, defaults, overrides)


def user_export_requested(**overrides: Any) -> UserExportRequested:
    defaults = {
        "user_id": STUDENT_ID,
        "export_id": EXPORT_ID,
        "public_key": EXPORT_PUBLIC_KEY,
        "requested_at": _at(50),
    }
    return _make(UserExportRequested, defaults, overrides)


def _part(cls: type[E], service: str, overrides: dict[str, Any]) -> E:
    defaults = {
        "export_id": EXPORT_ID,
        "user_id": STUDENT_ID,
        "chunk": 0,
        "chunks": 1,
        "sealed": SEALED_PARTS[service],
        "exported_at": _at(51),
    }
    return _make(cls, defaults, overrides)


def content_user_data_exported(**overrides: Any) -> ContentUserDataExported:
    return _part(ContentUserDataExported, "content", overrides)


def assessment_user_data_exported(**overrides: Any) -> AssessmentUserDataExported:
    return _part(AssessmentUserDataExported, "assessment", overrides)


def ai_notes_user_data_exported(**overrides: Any) -> AiNotesUserDataExported:
    return _part(AiNotesUserDataExported, "ai-notes", overrides)


FACTORIES: dict[type[Event], Callable[..., Event]] = {
    UserRegistered: user_registered,
    UserRoleChanged: user_role_changed,
    UserDeleted: user_deleted,
    UserSessionsRevoked: user_sessions_revoked,
    UserDisabled: user_disabled,
    CourseCreated: course_created,
    CoursePublished: course_published,
    CourseUnpublished: course_unpublished,
    CourseArchived: course_archived,
    CourseOwnerChanged: course_owner_changed,
    LessonPublished: lesson_published,
    LessonUnpublished: lesson_unpublished,
    LessonDeleted: lesson_deleted,
    ExamPublished: exam_published,
    AttemptCompleted: attempt_completed,
    NotesGenerated: notes_generated,
    UserExportRequested: user_export_requested,
    ContentUserDataExported: content_user_data_exported,
    AssessmentUserDataExported: assessment_user_data_exported,
    AiNotesUserDataExported: ai_notes_user_data_exported,
}

_missing = [cls.__name__ for cls in CATALOG if cls not in FACTORIES]
if _missing:  # fail at import, not in a docs run much later
    raise RuntimeError(f"edvent_events.samples has no factory for {', '.join(_missing)}")


def sample(cls: type[E], **overrides: Any) -> E:
    """The sample of an event type, with optional field overrides."""
    event = FACTORIES[cls](**overrides)
    assert isinstance(event, cls)
    return event


def occurred_at(event: Event) -> datetime:
    """A plausible `ce_time` for a sample: its latest timestamp field."""
    moments = [value for value in dict(event).values() if isinstance(value, datetime)]
    return max(moments, default=T0)


def all_samples() -> list[Event]:
    """One sample per public event type, in catalog order."""
    return [FACTORIES[cls]() for cls in CATALOG]
