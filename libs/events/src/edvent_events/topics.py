"""Kafka topic names of the public event contract (CONTRACT.md, "Events on Kafka").

A topic carries one aggregate's events (several event types may share it), so a
consumer that needs per-aggregate order reads one topic. Renaming a topic is a
breaking change for every data team: add a new one instead.
"""

from __future__ import annotations

from typing import Final

IDENTITY_USERS: Final = "identity.users"
CONTENT_COURSES: Final = "content.courses"
CONTENT_LESSONS: Final = "content.lessons"
ASSESSMENT_EXAMS: Final = "assessment.exams"
ASSESSMENT_ATTEMPTS: Final = "assessment.attempts"
AI_NOTES_NOTES: Final = "ai-notes.notes"
# Each service's sealed parts of personal data exports (`edvent_events.exports`): read by
# identity, which alone can open them.
CONTENT_USER_EXPORTS: Final = "content.user-exports"
ASSESSMENT_USER_EXPORTS: Final = "assessment.user-exports"
AI_NOTES_USER_EXPORTS: Final = "ai-notes.user-exports"

ALL_TOPICS: Final[tuple[str, ...]] = (
    IDENTITY_USERS,
    CONTENT_COURSES,
    CONTENT_LESSONS,
    ASSESSMENT_EXAMS,
    ASSESSMENT_ATTEMPTS,
    AI_NOTES_NOTES,
    CONTENT_USER_EXPORTS,
    ASSESSMENT_USER_EXPORTS,
    AI_NOTES_USER_EXPORTS,
)

# The per-user data keys that decrypt personal fields (`edvent_events.pii`): written by
# identity only, read by data teams. Not an event topic (no catalog types), and
# compacted: a key's tombstone at erasure removes the key from the log.
IDENTITY_USER_KEYS: Final = "identity.user-keys"

# Compaction soon after a tombstone: a segment rolls after an hour (on the next write),
# the cleaner takes any segment with something to clean, and the tombstone itself is
# kept a day for readers that were offline (then it goes too).
COMPACTED_TOPIC_CONFIG: Final[dict[str, str]] = {
    "cleanup.policy": "compact",
    "min.cleanable.dirty.ratio": "0.01",
    "segment.ms": "3600000",
    "max.compaction.lag.ms": "3600000",
    "delete.retention.ms": "86400000",
}

DLQ_INFIX: Final = ".dlq."


def dlq_topic(topic: str, consumer_service: str) -> str:
    """The dead-letter topic of one consuming service for one source topic.

    Per consumer, not per topic: one service's poison message must not show up in
    another service's dead letters, and each service redrives its own.
    """
    return f"{topic}{DLQ_INFIX}{consumer_service}"


RETRY_INFIX: Final = ".retry."


def retry_topic(topic: str, consumer_service: str) -> str:
    """Where `edvent-events redrive` sends one service's dead letters back.

    Only that service's consumer reads it (besides the source topic), so a redrive
    reaches the one consumer group that failed, not every subscriber of the topic.
    """
    return f"{topic}{RETRY_INFIX}{consumer_service}"


def split_dlq_topic(name: str) -> tuple[str, str]:
    """`content.lessons.dlq.ai-notes` -> (`content.lessons`, `ai-notes`)."""
    topic, infix, service = name.rpartition(DLQ_INFIX)
    if not infix or not topic or not service:
        raise ValueError(f"{name!r} is not a dead-letter topic (<topic>{DLQ_INFIX}<service>)")
    return topic, service
