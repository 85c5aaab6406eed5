"""Every event type Edvent publishes, one module per producing service.

Importing this package registers them all in `edvent_events.contract.REGISTRY`.
`CATALOG` lists only these public types: tests and tools may register their own
types in the registry, and those must not leak into the published documents.
"""

from __future__ import annotations

from edvent_events.catalog import ai_notes, assessment, content, identity
from edvent_events.catalog.ai_notes import AiNotesUserDataExported, KeyConcept, NotesGenerated
from edvent_events.catalog.assessment import (
    AssessmentUserDataExported,
    AttemptCompleted,
    ExamPublished,
)
from edvent_events.catalog.content import (
    ContentUserDataExported,
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
    LessonDeleted,
    LessonPublished,
    LessonUnpublished,
)
from edvent_events.catalog.identity import (
    UserDeleted,
    UserDisabled,
    UserExportRequested,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.contract import Event

CATALOG: tuple[type[Event], ...] = (
    UserRegistered,
    UserRoleChanged,
    UserDeleted,
    UserSessionsRevoked,
    UserDisabled,
    UserExportRequested,
    CourseCreated,
    CoursePublished,
    CourseUnpublished,
    CourseArchived,
    CourseOwnerChanged,
    LessonPublished,
    LessonUnpublished,
    LessonDeleted,
    ExamPublished,
    AttemptCompleted,
    NotesGenerated,
    ContentUserDataExported,
    AssessmentUserDataExported,
    AiNotesUserDataExported,
)

__all__ = [
    "CATALOG",
    "AiNotesUserDataExported",
    "AssessmentUserDataExported",
    "AttemptCompleted",
    "ContentUserDataExported",
    "CourseArchived",
    "CourseCreated",
    "CourseOwnerChanged",
    "CoursePublished",
    "CourseUnpublished",
    "ExamPublished",
    "KeyConcept",
    "LessonDeleted",
    "LessonPublished",
    "LessonUnpublished",
    "NotesGenerated",
    "UserDeleted",
    "UserDisabled",
    "UserExportRequested",
    "UserRegistered",
    "UserRoleChanged",
    "UserSessionsRevoked",
    "ai_notes",
    "assessment",
    "content",
    "identity",
]
