"""Events published by the content service on `content.courses` and `content.lessons`."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, Field

from edvent_events.contract import Event, register
from edvent_events.exports import UserDataPart
from edvent_events.topics import CONTENT_COURSES, CONTENT_LESSONS, CONTENT_USER_EXPORTS

SOURCE = "/services/content"
SHA256_HEX = r"^[0-9a-f]{64}$"


@register
class CourseCreated(Event):
    """A course was created as an unpublished draft, owned by the instructor who created it.

    Emitted once per course. Drafts are not visible to students until `CoursePublished`.
    """

    topic = CONTENT_COURSES
    ce_type = "edvent.content.course.created.v1"
    source = SOURCE
    key_field = "course_id"

    course_id: UUID = Field(description="Id of the course; also the Kafka key and ce_subject.")
    owner_id: UUID = Field(
        description="Id of the identity user who owns the course (an INSTRUCTOR or ADMIN)."
    )
    title: str = Field(description="Course title when the course was created.")
    created_at: AwareDatetime = Field(description="When the course was created (RFC 3339).")


@register
class CoursePublished(Event):
    """A course was published and is now listed for every user.

    Emitted when its owner or an admin publishes it; carries the title at that moment.
    """

    topic = CONTENT_COURSES
    ce_type = "edvent.content.course.published.v1"
    source = SOURCE
    key_field = "course_id"

    course_id: UUID = Field(description="Id of the course; also the Kafka key and ce_subject.")
    owner_id: UUID = Field(description="Id of the identity user who owns the course.")
    title: str = Field(description="Course title when it was published.")
    published_at: AwareDatetime = Field(description="When the course was published (RFC 3339).")


@register
class LessonPublished(Event):
    """A lesson was published, and again after each change of a published lesson's content.

    Treat it as an upsert of the lesson's published state: the newest event per
    `lesson_id` wins. Compare `content_sha256` with the last one seen to tell a content
    change from a republication of the same body.
    """

    topic = CONTENT_LESSONS
    ce_type = "edvent.content.lesson.published.v1"
    source = SOURCE
    key_field = "lesson_id"

    lesson_id: UUID = Field(description="Id of the lesson; also the Kafka key and ce_subject.")
    course_id: UUID = Field(description="Id of the course the lesson belongs to.")
    title: str = Field(description="Lesson title at the time of the event.")
    order_index: int = Field(
        ge=0,
        description=(
            "Position of the lesson within its course; lessons are shown in ascending "
            "order. Values need not be contiguous."
        ),
    )
    content_key: str = Field(
        min_length=1,
        description=(
            "Object key of the lesson's Markdown body in the platform's S3 bucket "
            "(the lesson's `content_url`). Not a URL; read access is internal."
        ),
    )
    content_sha256: str = Field(
        pattern=SHA256_HEX,
        description="SHA-256 of the Markdown body's bytes, as 64 lower-case hex digits.",
    )
    published_at: AwareDatetime = Field(
        description="The lesson's `published_at` when the event was emitted (RFC 3339)."
    )


@register
class CourseUnpublished(Event):
    """A published course was taken back to a draft: hidden from everyone but its owner
    and admins, with its lessons, notes and exams, until it is published again."""

    topic = CONTENT_COURSES
    ce_type = "edvent.content.course.unpublished.v1"
    source = SOURCE
    key_field = "course_id"

    course_id: UUID = Field(description="Id of the course; also the Kafka key and ce_subject.")
    unpublished_at: AwareDatetime = Field(description="When the course was unpublished (RFC 3339).")


@register
class CourseArchived(Event):
    """A course was archived: hidden from everyone but its owner and admins, and its
    exams take no new attempts. Nothing is deleted; attempts and grades stay readable
    to those who could read them."""

    topic = CONTENT_COURSES
    ce_type = "edvent.content.course.archived.v1"
    source = SOURCE
    key_field = "course_id"

    course_id: UUID = Field(description="Id of the course; also the Kafka key and ce_subject.")
    archived_at: AwareDatetime = Field(description="When the course was archived (RFC 3339).")


@register
class CourseOwnerChanged(Event):
    """An admin moved a course to another owner (an INSTRUCTOR or ADMIN). Owner rights
    over the course, its lessons and its exams pass to `new_owner_id`."""

    topic = CONTENT_COURSES
    ce_type = "edvent.content.course.owner_changed.v1"
    source = SOURCE
    key_field = "course_id"

    course_id: UUID = Field(description="Id of the course; also the Kafka key and ce_subject.")
    old_owner_id: UUID = Field(description="Id of the identity user who owned the course.")
    new_owner_id: UUID = Field(description="Id of the identity user who owns it from now on.")
    changed_at: AwareDatetime = Field(description="When the owner changed (RFC 3339).")


@register
class LessonUnpublished(Event):
    """A published lesson was taken back to a draft: its note and search chunks are no
    longer served to students. A later `LessonPublished` makes it visible again."""

    topic = CONTENT_LESSONS
    ce_type = "edvent.content.lesson.unpublished.v1"
    source = SOURCE
    key_field = "lesson_id"

    lesson_id: UUID = Field(description="Id of the lesson; also the Kafka key and ce_subject.")
    course_id: UUID = Field(description="Id of the course the lesson belongs to.")
    unpublished_at: AwareDatetime = Field(description="When the lesson was unpublished (RFC 3339).")


@register
class LessonDeleted(Event):
    """A lesson was deleted for good: subscribers delete what they hold of it (its note,
    its chunks) and keep a tombstone, so that a late `LessonPublished` does nothing."""

    topic = CONTENT_LESSONS
    ce_type = "edvent.content.lesson.deleted.v1"
    source = SOURCE
    key_field = "lesson_id"

    lesson_id: UUID = Field(description="Id of the lesson; also the Kafka key and ce_subject.")
    course_id: UUID = Field(description="Id of the course the lesson belonged to.")
    deleted_at: AwareDatetime = Field(description="When the lesson was deleted (RFC 3339).")


@register
class ContentUserDataExported(UserDataPart):
    """content's part of a user's data export.

    The courses the user owns, as content holds them.
    The answer to `user.export_requested`, sealed so that only identity can read it
    (libs/events README, "Data exports"); a large part comes as several chunks.
    """

    topic = CONTENT_USER_EXPORTS
    ce_type = "edvent.content.user_data.exported.v1"
    source = SOURCE
