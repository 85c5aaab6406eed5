"""Lessons: bodies stored in S3 first, then the row; publishing with LessonPublished,
unpublishing with LessonUnpublished, deleting with LessonDeleted.

The slow part (S3) happens outside any transaction: the caller checks access with
`manageable_course`/`manageable_lesson`, ends that read, stores the body with
`store_body`, and only then writes the row in its unit of work, which checks access
again under a row lock. A failed upload leaves no row; a failed write after an upload
leaves an unreferenced object that `edvent-content gc-objects` removes. So does
deleting a lesson: its objects go with the next `gc-objects` run after a short grace
(`usecases.objects`), never before the delete is committed.
"""

from __future__ import annotations

import time
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content import metrics
from edvent_content.adapters.storage import LessonStore
from edvent_content.db import lessons as lessons_db
from edvent_content.db.tables import Course, Lesson
from edvent_content.domain import access
from edvent_content.domain.access import Actor
from edvent_content.domain.content import MAX_ORDER_INDEX, Body, object_key
from edvent_content.domain.errors import (
    LessonNotFound,
    NoPlaceAfterLast,
    OrderIndexTaken,
    StorageUnavailable,
)
from edvent_content.usecases.courses import facts, manageable_course, visible_course
from edvent_events.catalog.content import LessonDeleted, LessonPublished, LessonUnpublished
from edvent_events.outbox import add_event


async def _lesson_and_course(
    session: AsyncSession, lesson_id: UUID, *, for_update: bool = False
) -> tuple[Lesson, Course]:
    found = await lessons_db.with_course(session, lesson_id, for_update=for_update)
    if found is None:
        raise LessonNotFound
    return found


async def visible_lesson(*, session: AsyncSession, actor: Actor | None, lesson_id: UUID) -> Lesson:
    lesson, course = await _lesson_and_course(session, lesson_id)
    access.check_lesson_visible(actor, facts(course), published=lesson.published_at is not None)
    return lesson


async def manageable_lesson(
    *, session: AsyncSession, actor: Actor, lesson_id: UUID, for_update: bool = False
) -> Lesson:
    lesson, _ = await _manageable_with_course(
        session=session, actor=actor, lesson_id=lesson_id, for_update=for_update
    )
    return lesson


async def replaceable_lesson(*, session: AsyncSession, actor: Actor, lesson_id: UUID) -> Lesson:
    """`manageable_lesson`, and refused (409) before any upload when a new body would
    publish into an archived course; `replace_content` checks again under the locks."""
    lesson, course = await _manageable_with_course(
        session=session, actor=actor, lesson_id=lesson_id
    )
    if lesson.published_at is not None:
        access.check_not_archived(facts(course), doing="publishing a new body")
    return lesson


async def _manageable_with_course(
    *, session: AsyncSession, actor: Actor, lesson_id: UUID, for_update: bool = False
) -> tuple[Lesson, Course]:
    lesson, course = await _lesson_and_course(session, lesson_id, for_update=for_update)
    access.check_lesson_manageable(actor, facts(course), published=lesson.published_at is not None)
    return lesson, course


async def list_lessons(
    *,
    session: AsyncSession,
    actor: Actor | None,
    course_id: UUID,
    limit: int,
    after: int | None,
) -> tuple[list[Lesson], int | None]:
    course = await visible_course(session=session, actor=actor, course_id=course_id)
    rows = await lessons_db.page(
        session,
        course_id=course_id,
        published_only=not access.lessons_visible_unpublished(actor, facts(course)),
        limit=limit + 1,
        after=after,
    )
    items = rows[:limit]
    return items, (items[-1].order_index if len(rows) > limit else None)


async def store_body(*, store: LessonStore, course_id: UUID, lesson_id: UUID, body: Body) -> str:
    """Put the body under its version's key (outside any transaction); the key."""
    key = object_key(course_id=course_id, lesson_id=lesson_id, sha256=body.sha256)
    started = time.perf_counter()
    try:
        await store.put(key=key, data=body.data, sha256=body.sha256)
    except StorageUnavailable:
        metrics.UPLOADS.labels("failed").inc()
        raise
    metrics.UPLOAD_SECONDS.observe(time.perf_counter() - started)
    metrics.UPLOADS.labels("stored").inc()
    metrics.UPLOAD_BYTES.inc(body.size)
    return key


async def add_lesson(
    *,
    session: AsyncSession,
    actor: Actor,
    course_id: UUID,
    lesson_id: UUID,
    title: str,
    body: Body,
    key: str,
    order_index: int | None,
) -> Lesson:
    """The lesson row for a body already stored under `key`; unpublished."""
    # The course lock serialises lesson additions, so a default order_index is free.
    await manageable_course(session=session, actor=actor, course_id=course_id, for_update=True)
    if order_index is None:
        order_index = await lessons_db.next_order_index(session, course_id=course_id)
        if order_index > MAX_ORDER_INDEX:
            raise NoPlaceAfterLast
    elif await lessons_db.order_index_taken(session, course_id=course_id, order_index=order_index):
        raise OrderIndexTaken(order_index)
    return await lessons_db.create(
        session,
        id=lesson_id,
        course_id=course_id,
        title=title,
        order_index=order_index,
        content_url=key,
        content_sha256=body.sha256,
        content_bytes=body.size,
    )


async def replace_content(
    *, session: AsyncSession, actor: Actor, lesson_id: UUID, body: Body, key: str
) -> Lesson:
    """Point the lesson at its new body. A published lesson's new body is live at once
    and announced again; the same body again changes nothing and announces nothing."""
    lesson, course = await _manageable_with_course(
        session=session, actor=actor, lesson_id=lesson_id, for_update=True
    )
    if lesson.content_sha256 == body.sha256:
        return lesson
    if lesson.published_at is not None:
        # A new body of a published lesson is published at once.
        access.check_not_archived(facts(course), doing="publishing a new body")
    changes: dict[str, object] = {
        "content_url": key,
        "content_sha256": body.sha256,
        "content_bytes": body.size,
    }
    if lesson.published_at is None:
        return await lessons_db.change(session, lesson_id=lesson_id, **changes)
    lesson = await lessons_db.change(
        session, lesson_id=lesson_id, **changes, published_at=func.now()
    )
    await add_event(session, published_event(lesson))
    return lesson


async def publish_lesson(*, session: AsyncSession, actor: Actor, lesson_id: UUID) -> Lesson:
    """Publish the current body; publishing it again changes nothing and emits nothing.
    A lesson unpublished earlier is published (and announced) again."""
    lesson, course = await _manageable_with_course(
        session=session, actor=actor, lesson_id=lesson_id, for_update=True
    )
    access.check_not_archived(facts(course), doing="publishing its lessons")
    if lesson.published_at is not None:
        return lesson
    lesson = await lessons_db.change(session, lesson_id=lesson_id, published_at=func.now())
    await add_event(session, published_event(lesson))
    return lesson


async def unpublish_lesson(*, session: AsyncSession, actor: Actor, lesson_id: UUID) -> Lesson:
    """Back to a draft (also in an archived course: taking back is always possible);
    unpublishing a draft changes nothing and emits nothing."""
    lesson = await manageable_lesson(
        session=session, actor=actor, lesson_id=lesson_id, for_update=True
    )
    if lesson.published_at is None:
        return lesson
    lesson = await lessons_db.change(session, lesson_id=lesson_id, published_at=None)
    await add_event(
        session,
        LessonUnpublished(
            lesson_id=lesson.id, course_id=lesson.course_id, unpublished_at=lesson.updated_at
        ),
    )
    return lesson


async def delete_lesson(*, session: AsyncSession, actor: Actor, lesson_id: UUID) -> None:
    """Delete the row and announce it (whether it was ever published or not: a
    subscriber copes with a delete of a lesson it never saw). Its body objects are
    left to `gc-objects`, which removes the objects of lessons that no longer exist
    after a short grace; a second delete finds nothing (404)."""
    lesson = await manageable_lesson(
        session=session, actor=actor, lesson_id=lesson_id, for_update=True
    )
    deleted_at = await lessons_db.remove(session, lesson_id=lesson_id)
    await add_event(
        session,
        LessonDeleted(lesson_id=lesson.id, course_id=lesson.course_id, deleted_at=deleted_at),
    )


def published_event(lesson: Lesson) -> LessonPublished:
    assert lesson.published_at is not None
    return LessonPublished(
        lesson_id=lesson.id,
        course_id=lesson.course_id,
        title=lesson.title,
        order_index=lesson.order_index,
        content_key=lesson.content_url,
        content_sha256=lesson.content_sha256,
        published_at=lesson.published_at,
    )
