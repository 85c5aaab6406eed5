"""/api/v1/lessons: a lesson, its body (stored in S3), publishing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response, StreamingResponse

from edvent_content import metrics
from edvent_content.adapters.storage import MEDIA_TYPE
from edvent_content.api.deps import (
    ContentDep,
    MaybeSignedIn,
    MaybeSignedInBriefly,
    ReadSessionDep,
    ReadSessions,
    SessionDep,
    SignedIn,
    SignedInBriefly,
)
from edvent_content.api.schemas import LessonPublic, problems
from edvent_content.domain.content import NOT_BLANK_PATTERN, BodyReader, etag_matches
from edvent_content.domain.errors import ContentTooLarge
from edvent_content.usecases import lessons as lessons_usecase

router = APIRouter(prefix="/api/v1/lessons", tags=["lessons"])

# The body is not JSON; describe it for generated clients.
_MARKDOWN_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/markdown": {"schema": {"type": "string", "pattern": NOT_BLANK_PATTERN}}},
        "description": "The Markdown body, UTF-8, at most 5 MiB.",
    }
}


@router.get("/{lesson_id}", responses=problems(401, 404, 422), summary="A lesson")
async def get_lesson(
    lesson_id: UUID, actor: MaybeSignedIn, session: ReadSessionDep
) -> LessonPublic:
    lesson = await lessons_usecase.visible_lesson(session=session, actor=actor, lesson_id=lesson_id)
    return LessonPublic.model_validate(lesson)


@router.put(
    "/{lesson_id}/content",
    responses=problems(401, 403, 404, 409, 413, 422, 503),
    summary="Replace a lesson's body (owner, ADMIN)",
    description="Raw `text/markdown` body, UTF-8, not blank, at most 5 MiB (413 as soon "
    "as more arrives). Stored in S3 under a new key per version. A published lesson's "
    "new body is live at once and LessonPublished is published again (409 in an "
    "archived course); the same body again changes nothing.",
    openapi_extra=_MARKDOWN_BODY,
)
async def replace_content(
    lesson_id: UUID,
    request: Request,
    actor: SignedInBriefly,
    reads: ReadSessions,
    session: SessionDep,
    content: ContentDep,
) -> LessonPublic:
    limit = content.settings.max_lesson_bytes
    declared = request.headers.get("content-length", "")
    async with reads() as read:
        lesson = await lessons_usecase.replaceable_lesson(
            session=read, actor=actor, lesson_id=lesson_id
        )
    course_id = lesson.course_id
    # No connection is held from here until the write: the body arrives at the client's
    # pace and goes to S3.
    if declared.isdigit() and int(declared) > limit:
        metrics.UPLOADS.labels("refused").inc()
        raise ContentTooLarge(limit)
    reader = BodyReader(limit=limit)
    try:
        async for chunk in request.stream():
            reader.feed(chunk)
        body = reader.finish()
    except Exception:
        metrics.UPLOADS.labels("refused").inc()
        raise
    # The body it has already: nothing to store (and a stored object is never rewritten).
    key = lesson.content_url
    if body.sha256 != lesson.content_sha256:
        key = await lessons_usecase.store_body(
            store=content.store, course_id=course_id, lesson_id=lesson_id, body=body
        )
    lesson = await lessons_usecase.replace_content(
        session=session, actor=actor, lesson_id=lesson_id, body=body, key=key
    )
    return LessonPublic.model_validate(lesson)


@router.get(
    "/{lesson_id}/content",
    responses={
        200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
        304: {"description": "Not modified: If-None-Match names the current version."},
        **problems(401, 404, 422, 503),
    },
    response_class=Response,
    summary="A lesson's Markdown body",
    description="Streamed from S3. `ETag` is the body's SHA-256 (`content_sha256`); "
    "send it back in `If-None-Match` to get 304 while the body is unchanged.",
)
async def read_content(
    lesson_id: UUID,
    actor: MaybeSignedInBriefly,
    reads: ReadSessions,
    content: ContentDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    # Read in a short session: no connection is held while S3 answers.
    async with reads() as read:
        lesson = await lessons_usecase.visible_lesson(
            session=read, actor=actor, lesson_id=lesson_id
        )
    headers = {
        "ETag": f'"{lesson.content_sha256}"',
        # Drafts are private and bodies change: caches must ask again every time.
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
    }
    if etag_matches(if_none_match, lesson.content_sha256):
        return Response(status_code=304, headers=headers)
    chunks = await content.store.open(key=lesson.content_url)

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            metrics.DOWNLOAD_BYTES.inc(len(chunk))
            yield chunk

    return StreamingResponse(
        counted(),
        media_type=MEDIA_TYPE,
        headers={**headers, "Content-Length": str(lesson.content_bytes)},
    )


@router.post(
    "/{lesson_id}/publish",
    responses=problems(401, 403, 404, 409, 422),
    summary="Publish a lesson (owner, ADMIN)",
    description="Sets `published_at` and publishes LessonPublished (again after an "
    "unpublish); publishing a published lesson again changes nothing and publishes "
    "nothing. A lesson of an archived course: 409.",
)
async def publish_lesson(lesson_id: UUID, actor: SignedIn, session: SessionDep) -> LessonPublic:
    lesson = await lessons_usecase.publish_lesson(session=session, actor=actor, lesson_id=lesson_id)
    return LessonPublic.model_validate(lesson)


@router.post(
    "/{lesson_id}/unpublish",
    responses=problems(401, 403, 404, 422),
    summary="Unpublish a lesson (owner, ADMIN)",
    description="`published_at` back to null and LessonUnpublished published: its note "
    "and search chunks are no longer served to students. Unpublishing a draft "
    "changes nothing and publishes nothing.",
)
async def unpublish_lesson(lesson_id: UUID, actor: SignedIn, session: SessionDep) -> LessonPublic:
    lesson = await lessons_usecase.unpublish_lesson(
        session=session, actor=actor, lesson_id=lesson_id
    )
    return LessonPublic.model_validate(lesson)


@router.delete(
    "/{lesson_id}",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 422),
    summary="Delete a lesson (owner, ADMIN)",
    description="Deletes the lesson and publishes LessonDeleted: subscribers delete its "
    "note and chunks. Its body objects are removed by the next `gc-objects` run after "
    "a short grace. A second delete: 404.",
)
async def delete_lesson(lesson_id: UUID, actor: SignedIn, session: SessionDep) -> Response:
    await lessons_usecase.delete_lesson(session=session, actor=actor, lesson_id=lesson_id)
    return Response(status_code=204)
