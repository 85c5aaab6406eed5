"""Creating, reading, listing, changing and publishing courses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db import courses as courses_db
from edvent_content.db.tables import Course
from edvent_content.domain import access
from edvent_content.domain.access import Actor, CourseFacts
from edvent_content.domain.errors import CourseNotFound
from edvent_content.usecases import users as users_usecase
from edvent_events.catalog.content import CourseCreated, CoursePublished
from edvent_events.outbox import add_event
from edvent_platform.cursor import PageKey


def facts(course: Course) -> CourseFacts:
    return CourseFacts(owner_id=course.owner_id, is_published=course.is_published)


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
) -> Course:
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
    changes = {
        name: value
        for name, value in (("title", title), ("description", description))
        if value is not None and value != getattr(course, name)
    }
    if not changes:
        return course
    return await courses_db.change(session, course_id=course_id, **changes)


async def publish_course(*, session: AsyncSession, actor: Actor, course_id: UUID) -> Course:
    """Publish once; publishing a published course changes nothing and emits nothing."""
    course = await manageable_course(
        session=session, actor=actor, course_id=course_id, for_update=True
    )
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
