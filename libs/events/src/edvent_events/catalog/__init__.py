"""Every event type Edvent publishes, one module per producing service.

Importing this package registers them all in `edvent_events.contract.REGISTRY`.
`CATALOG` lists only these public types: tests and tools may register their own
types in the registry, and those must not leak into the published documents.
"""

from __future__ import annotations

from edvent_events.catalog import ai_notes, assessment, content, identity
from edvent_events.catalog.ai_notes import KeyConcept, NotesGenerated
from edvent_events.catalog.assessment import AttemptCompleted, ExamPublished
from edvent_events.catalog.content import CourseCreated, CoursePublished, LessonPublished
from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_events.contract import Event

CATALOG: tuple[type[Event], ...] = (
    UserRegistered,
    UserRoleChanged,
    CourseCreated,
    CoursePublished,
    LessonPublished,
    ExamPublished,
    AttemptCompleted,
    NotesGenerated,
)

__all__ = [
    "CATALOG",
    "AttemptCompleted",
    "CourseCreated",
    "CoursePublished",
    "ExamPublished",
    "KeyConcept",
    "LessonPublished",
    "NotesGenerated",
    "UserRegistered",
    "UserRoleChanged",
    "ai_notes",
    "assessment",
    "content",
    "identity",
]
