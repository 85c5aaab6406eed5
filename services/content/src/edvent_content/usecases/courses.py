"""Creating, reading, listing, changing, publishing, unpublishing, archiving and moving
courses. Each change that subscribers must hear of writes its event to the outbox in
the caller's transaction; doing it again changes nothing and emits nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db import courses as courses_db
from edvent_content.db import users as users_db
from edvent_content.db.tables import Course
from edvent_content.domain import access
from edvent_content.domain.access import Actor, CourseFacts
from edvent_content.domain.errors import CourseNotFound, OwnerNotEligible
from edvent_content.usecases import users as users_usecase
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
)
from edvent_events.outbox import add_event
from edvent_platform.cursor import PageKey


def facts(course: Course) -> CourseFacts:
    return CourseFacts(
        owner_id=course.owner_id,
        is_published=course.is_published,
        archived=course.archived_at is not None,
    )


async def _existing(session: AsyncSession, course_id: UUID, *, for_update: bool) -> Course:
    course = await courses_db.by_id(session, course_id, for_update=for_update)
    if course is None:
        raise CourseNotFound
    return course


async def visible_course(*, session: AsyncSession, actor: Actor | None, course_id: UUID) -> Course:
    course = await _existing(session, course_id, for_update=False)
    access.check_course_visible(actor, facts(course))
    return course


async def manageable_course(
    *, session: AsyncSession, actor: Actor, course_id: UUID, for_update: bool = False
) -> Course:
    course = await _existing(session, course_id, for_update=for_update)
    access.check_course_manageable(actor, facts(course))
    return course


async def create_course(
    *, session: AsyncSession, actor: Actor, title: str, description: str
) -> Course:
    access.check_may_author(actor)
    await users_usecase.remember(session=session, actor=actor)
    course = await courses_db.create(
        session, owner_id=actor.user_id, title=title, description=description
    )
    await add_event(
        session,
        CourseCreated(
            course_id=course.id,
            owner_id=course.owner_id,
            title=course.title,
            created_at=course.created_at,
        ),
    )
    return course


async def list_courses(
    *,
    session: AsyncSession,
    actor: Actor | None,
    owner_id: UUID | None,
    limit: int,
    after: PageKey | None,
) -> tuple[list[dict[str, Any]], PageKey | None]:
    """A page of the courses `actor` may see (their columns by name), newest first,
    and where the next starts."""
    rows = await courses_db.page(
        session,
        visible=access.course_filter(actor),
        owner_id=owner_id,
        limit=limit + 1,
        after=after,
    )
    items = rows[:limit]
    more = len(rows) > limit
    return items, (PageKey(items[-1]["created_at"], items[-1]["id"]) if more else None)


async def update_course(
    *,
    session: AsyncSession,
    actor: Actor,
    course_id: UUID,
    title: str | None,
    description: str | None,
    owner_id: UUID | None = None,
) -> Course:
    """Title and description (owner, ADMIN); `owner_id` (ADMIN alone, also for an
    archived course), announced by CourseOwnerChanged. Title and description changes
    publish nothing: no event type carries them."""
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
    changes: dict[str, Any] = {
        name: value
        for name, value in (("title", title), ("description", description))
        if value is not None and value != getattr(course, name)
    }
    old_owner = course.owner_id
    if owner_id is not None:
        access.check_may_change_owner(actor)
        if owner_id != old_owner:
            if owner_id == actor.user_id:
                await users_usecase.remember(session=session, actor=actor)
            await _check_may_own(session=session, user_id=owner_id)
            changes["owner_id"] = owner_id
    if not changes:
        return course
    course = await courses_db.change(session, course_id=course_id, **changes)
    if course.owner_id != old_owner:
        await add_event(
            session,
            CourseOwnerChanged(
                course_id=course.id,
                old_owner_id=old_owner,
                new_owner_id=course.owner_id,
                changed_at=course.updated_at,
            ),
        )
    return course


async def _check_may_own(*, session: AsyncSession, user_id: UUID) -> None:
    """The new owner by content's users reference table (identity's events): their
    current role must be INSTRUCTOR or ADMIN, and they must not be erased. Locked
    until commit, so an erasure or demotion heard meanwhile waits for the move."""
    user = await users_db.by_id(session, user_id, for_share=True)
    if user is None or not access.may_own_courses(user.role, erased=user.deleted_at is not None):
        raise OwnerNotEligible(
            "the new owner must be a known user whose current role is INSTRUCTOR or ADMIN"
        )


async def publish_course(*, session: AsyncSession, actor: Actor, course_id: UUID) -> Course:
    """Publish once; publishing a published course changes nothing and emits nothing.
    A course unpublished earlier is published (and announced) again."""
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
    access.check_not_archived(facts(course), doing="publishing it")
    if course.is_published:
        return course
    course = await courses_db.publish(session, course_id=course_id)
    assert course.published_at is not None
    await add_event(
        session,
        CoursePublished(
            course_id=course.id,
            owner_id=course.owner_id,
            title=course.title,
            published_at=course.published_at,
        ),
    )
    return course


async def unpublish_course(*, session: AsyncSession, actor: Actor, course_id: UUID) -> Course:
    """Back to a draft: hidden from all but the owner and ADMIN, with its lessons (which
    keep their own state, so publishing the course again shows the same lessons).
    Unpublishing a draft changes nothing and emits nothing."""
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
    access.check_not_archived(facts(course), doing="unpublishing it")
    if not course.is_published:
        return course
    course = await courses_db.unpublish(session, course_id=course_id)
    await add_event(
        session, CourseUnpublished(course_id=course.id, unpublished_at=course.updated_at)
    )
    return course


async def archive_course(*, session: AsyncSession, actor: Actor, course_id: UUID) -> Course:
    """Archive for good: hidden from all but the owner and ADMIN, its exams take no new
    attempts, nothing is deleted. Archiving again changes nothing and emits nothing."""
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
    if course.archived_at is not None:
        return course
    course = await courses_db.archive(session, course_id=course_id)
    assert course.archived_at is not None
    await add_event(session, CourseArchived(course_id=course.id, archived_at=course.archived_at))
    return course
