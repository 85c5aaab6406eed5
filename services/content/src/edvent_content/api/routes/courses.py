"""/api/v1/courses: the catalogue, course authoring, and adding lessons."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from edvent_content.api.cursor import (
    LESSON_CURSOR_PATTERN,
    decode_lesson_cursor,
    encode_lesson_cursor,
)
from edvent_content.api.deps import (
    ContentDep,
    MaybeSignedIn,
    ReadSessionDep,
    ReadSessions,
    SessionDep,
    SignedIn,
    SignedInBriefly,
)
from edvent_content.api.schemas import (
    CourseCreate,
    CourseList,
    CoursePublic,
    CourseUpdate,
    LessonCreate,
    LessonList,
    LessonPublic,
    problems,
)
from edvent_content.domain.content import body_from_text
from edvent_content.usecases import courses as courses_usecase
from edvent_content.usecases import lessons as lessons_usecase
from edvent_platform.cursor import encode_page_key
from edvent_platform.deps import PageAfter
from edvent_platform.problems import Unauthorized

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=10,
        pattern=LESSON_CURSOR_PATTERN,
        description="`next_cursor` of the previous page.",
    ),
]
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
Owner = Annotated[str | None, Query(pattern=f"^(me|{_UUID})$", description="`me`, or a user id.")]
# Links from a created course or lesson to what takes its id: clients (and the
# stateful fuzz tests) follow them.
COURSE_LINKS = {
    name: {"operationId": op, "parameters": {"course_id": "$response.body#/id"}}
    for name, op in (
        ("getCourse", "getCourse"),
        ("updateCourse", "updateCourse"),
        ("publishCourse", "publishCourse"),
        ("unpublishCourse", "unpublishCourse"),
        ("archiveCourse", "archiveCourse"),
        ("addLesson", "addLesson"),
        ("listLessons", "listLessons"),
    )
}
LESSON_LINKS = {
    name: {"operationId": name, "parameters": {"lesson_id": "$response.body#/id"}}
    for name in (
        "getLesson",
        "replaceContent",
        "readContent",
        "publishLesson",
        "unpublishLesson",
        "deleteLesson",
    )
}


def _bad_query(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


async def lesson_page_after(cursor: Cursor = None) -> int | None:
    if cursor is None:
        return None
    try:
        return decode_lesson_cursor(cursor)
    except ValueError:
        raise _bad_query("cursor", "not a valid cursor") from None


@router.post(
    "",
    status_code=201,
    responses={
        201: {"description": "The new course", "links": COURSE_LINKS},
        **problems(401, 403, 422),
    },
    summary="Create a course (INSTRUCTOR, ADMIN)",
    description="The caller owns the new course; it is a draft until published. "
    "Publishes CourseCreated.",
)
async def create_course(body: CourseCreate, actor: SignedIn, session: SessionDep) -> CoursePublic:
    course = await courses_usecase.create_course(
        session=session, actor=actor, title=body.title, description=body.description
    )
    return CoursePublic.model_validate(course)


@router.get(
    "",
    responses=problems(401, 422),
    summary="List courses, newest first",
    description="Published courses, plus the caller's own drafts (all drafts for an "
    "ADMIN). `owner=me` lists only the caller's courses (needs a token); `owner=<user "
    "id>` only that user's courses the caller may see.",
)
async def list_courses(
    actor: MaybeSignedIn,
    session: ReadSessionDep,
    after: PageAfter,
    limit: Limit = 20,
    owner: Owner = None,
) -> CourseList:
    owner_id: UUID | None = None
    if owner == "me":
        if actor is None:
            raise Unauthorized("owner=me needs an access token: Authorization: Bearer <token>.")
        owner_id = actor.user_id
    elif owner is not None:
        try:
            owner_id = uuid.UUID(owner)
        except ValueError:
            raise _bad_query("owner", "must be `me` or a user id") from None
    items, next_key = await courses_usecase.list_courses(
        session=session, actor=actor, owner_id=owner_id, limit=limit, after=after
    )
    return CourseList.model_validate(
        {"items": items, "next_cursor": encode_page_key(next_key) if next_key else None}
    )


@router.get("/{course_id}", responses=problems(401, 404, 422), summary="A course")
async def get_course(
    course_id: UUID, actor: MaybeSignedIn, session: ReadSessionDep
) -> CoursePublic:
    course = await courses_usecase.visible_course(session=session, actor=actor, course_id=course_id)
    return CoursePublic.model_validate(course)


@router.patch(
    "/{course_id}",
    responses=problems(401, 403, 404, 422),
    summary="Change a course's title or description (owner, ADMIN), or its owner (ADMIN)",
    description="Title and description publish nothing. `owner_id` is for an ADMIN "
    "alone (403 otherwise), also on an archived course; the new owner must be known "
    "to content with the current role INSTRUCTOR or ADMIN and not erased (422 "
    "otherwise). A new owner publishes CourseOwnerChanged.",
)
async def update_course(
    course_id: UUID, body: CourseUpdate, actor: SignedIn, session: SessionDep
) -> CoursePublic:
    course = await courses_usecase.update_course(
        session=session,
        actor=actor,
        course_id=course_id,
        title=body.title,
        description=body.description,
        owner_id=body.owner_id,
    )
    return CoursePublic.model_validate(course)


@router.post(
    "/{course_id}/publish",
    responses=problems(401, 403, 404, 409, 422),
    summary="Publish a course (owner, ADMIN)",
    description="Publishes CoursePublished (again after an unpublish); publishing a "
    "published course changes nothing. An archived course: 409.",
)
async def publish_course(course_id: UUID, actor: SignedIn, session: SessionDep) -> CoursePublic:
    course = await courses_usecase.publish_course(session=session, actor=actor, course_id=course_id)
    return CoursePublic.model_validate(course)


@router.post(
    "/{course_id}/unpublish",
    responses=problems(401, 403, 404, 409, 422),
    summary="Unpublish a course (owner, ADMIN)",
    description="Back to a draft, hidden from all but the owner and ADMIN with its "
    "lessons; publishes CourseUnpublished. Unpublishing a draft changes nothing. An "
    "archived course: 409 (archiving is final).",
)
async def unpublish_course(course_id: UUID, actor: SignedIn, session: SessionDep) -> CoursePublic:
    course = await courses_usecase.unpublish_course(
        session=session, actor=actor, course_id=course_id
    )
    return CoursePublic.model_validate(course)


@router.post(
    "/{course_id}/archive",
    responses=problems(401, 403, 404, 422),
    summary="Archive a course for good (owner, ADMIN)",
    description="Sets `archived_at`: hidden from all but the owner and ADMIN, its exams "
    "take no new attempts, nothing is deleted; publishes CourseArchived. Archiving "
    "again changes nothing. There is no unarchive: an archived course is never "
    "published or unpublished again (409).",
)
async def archive_course(course_id: UUID, actor: SignedIn, session: SessionDep) -> CoursePublic:
    course = await courses_usecase.archive_course(session=session, actor=actor, course_id=course_id)
    return CoursePublic.model_validate(course)


@router.post(
    "/{course_id}/lessons",
    status_code=201,
    responses={
        201: {"description": "The new lesson", "links": LESSON_LINKS},
        **problems(401, 403, 404, 409, 413, 422, 503),
    },
    summary="Add a lesson (owner, ADMIN)",
    description="The body is stored in S3 first (503 with Retry-After when S3 is "
    "unavailable, and then no lesson is created). The lesson starts unpublished.",
)
async def add_lesson(
    course_id: UUID,
    body: LessonCreate,
    actor: SignedInBriefly,
    reads: ReadSessions,
    session: SessionDep,
    content: ContentDep,
) -> LessonPublic:
    async with reads() as read:
        await courses_usecase.manageable_course(session=read, actor=actor, course_id=course_id)
    markdown = body_from_text(body.content_markdown, limit=content.settings.max_lesson_bytes)
    # Stored before the unit of work begins: no connection waits on S3.
    lesson_id = uuid.uuid4()
    key = await lessons_usecase.store_body(
        store=content.store, course_id=course_id, lesson_id=lesson_id, body=markdown
    )
    lesson = await lessons_usecase.add_lesson(
        session=session,
        actor=actor,
        course_id=course_id,
        lesson_id=lesson_id,
        title=body.title,
        body=markdown,
        key=key,
        order_index=body.order_index,
    )
    return LessonPublic.model_validate(lesson)


@router.get(
    "/{course_id}/lessons",
    responses=problems(401, 404, 422),
    summary="A course's lessons in order_index order",
    description="Students and anonymous callers see published lessons only.",
)
async def list_lessons(
    course_id: UUID,
    actor: MaybeSignedIn,
    session: ReadSessionDep,
    after: Annotated[int | None, Depends(lesson_page_after)],
    limit: Limit = 20,
) -> LessonList:
    items, last = await lessons_usecase.list_lessons(
        session=session, actor=actor, course_id=course_id, limit=limit, after=after
    )
    return LessonList(
        items=[LessonPublic.model_validate(lesson) for lesson in items],
        next_cursor=encode_lesson_cursor(last) if last is not None else None,
    )
