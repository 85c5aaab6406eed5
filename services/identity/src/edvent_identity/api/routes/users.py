"""/api/v1/users: the signed-in user; for ADMINs the list and role changes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from starlette.convertors import StringConvertor, register_url_convertor

from edvent_identity.api.deps import (
    AdminUser,
    HashingDep,
    IdentityDep,
    ReadSessionDep,
    SessionDep,
)
from edvent_identity.api.schemas import (
    EraseRequest,
    ExportPending,
    UserList,
    UserPublic,
    UserUpdate,
    problems,
)
from edvent_identity.usecases import erasure
from edvent_identity.usecases import exports as exports_usecase
from edvent_identity.usecases import users as users_usecases
from edvent_platform.auth import CurrentUser
from edvent_platform.cursor import encode_page_key
from edvent_platform.deps import PageAfter

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class NotMe(StringConvertor):
    """A path segment other than `me`: /users/me is a resource of its own, so PATCH
    /users/me is 405 (Allow: GET), while other non-ids are still 422."""

    regex = "(?!me$)[^/]+"


register_url_convertor("not_me", NotMe())


@router.get("/me", responses=problems(401), summary="The signed-in user")
async def get_me(user: CurrentUser, session: ReadSessionDep) -> UserPublic:
    account = await users_usecases.current_account(session=session, principal=user)
    return UserPublic.model_validate(account)


_EXPORT_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "Everything the platform holds about the caller, one section per kind.",
    "required": ["format", "export_id", "account"],
    "properties": {
        "format": {"type": "string", "const": exports_usecase.FORMAT},
        "export_id": {"type": "string", "format": "uuid"},
        "requested_at": {"type": "string", "format": "date-time"},
        "completed_at": {"type": "string", "format": "date-time"},
        "sources": {
            "type": "object",
            "description": "Which service gave which sections.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "account": {"type": "object", "description": "identity: the user as stored."},
        "sessions": {
            "type": "array",
            "items": {"type": "object"},
            "description": "identity: sign-ins.",
        },
        "emails": {
            "type": "array",
            "items": {"type": "object"},
            "description": "identity: emails sent.",
        },
        "courses": {
            "type": "array",
            "items": {"type": "object"},
            "description": "content: courses owned.",
        },
        "attempts": {
            "type": "array",
            "items": {"type": "object"},
            "description": "assessment: every attempt with its answer sheet.",
        },
        "grades": {
            "type": "array",
            "items": {"type": "object"},
            "description": "assessment: a grade per exam.",
        },
        "ai_notes": {"type": "object", "description": "ai-notes: what it knows of the user."},
    },
}


@router.get(
    "/me/export",
    summary="Download my data (GDPR Art. 15/20)",
    description=(
        "Services never call each other, so the copy is gathered by events: the first "
        "call publishes `user.export_requested` and answers 202 with `Retry-After`; "
        "content, assessment and ai-notes each send their part sealed to a key only "
        "identity holds; once every part is in, this answers 200 with the whole "
        "document (`Content-Disposition: attachment`) for an hour. A part that does not "
        "come within ten minutes makes the next call ask again."
    ),
    responses={
        200: {
            "description": "The caller's data as one JSON document.",
            "content": {"application/json": {"schema": _EXPORT_DOCUMENT}},
            "headers": {
                "Content-Disposition": {
                    "description": "attachment; filename=edvent-my-data-<date>.json",
                    "schema": {"type": "string"},
                }
            },
        },
        202: {
            "model": ExportPending,
            "description": "Being gathered: ask again after Retry-After seconds.",
            "headers": {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            },
        },
        **problems(401),
    },
    response_model=None,
)
async def export_me(user: CurrentUser, session: SessionDep, identity: IdentityDep) -> Response:
    answer = await exports_usecase.read_or_request(
        session=session, principal=user, policy=identity.exports
    )
    # Personal data: no shared cache keeps it.
    headers = {"Cache-Control": "no-store"}
    if isinstance(answer, exports_usecase.Pending):
        body = ExportPending(
            export_id=answer.export_id,
            requested_at=answer.requested_at,
            parts_expected=answer.expected,
            parts_received=answer.received,
        )
        return JSONResponse(
            body.model_dump(mode="json"),
            status_code=status.HTTP_202_ACCEPTED,
            headers=headers | {"Retry-After": str(EXPORT_RETRY_AFTER_SECONDS)},
        )
    day = str(answer.document.get("completed_at") or "")[:10] or "export"
    return JSONResponse(
        answer.document,
        headers=headers
        | {"Content-Disposition": f'attachment; filename="edvent-my-data-{day}.json"'},
    )


# A part usually arrives within a second or two of the request.
EXPORT_RETRY_AFTER_SECONDS = 2


_ERASURE = (
    "The email, the name and the password hash are deleted (the account's row goes; "
    "its id is a random UUID, never given out again), every sign-in ends, and "
    "`user.deleted` is published: every service refuses the account's access tokens "
    "within seconds. The email can register again, as a new account. An account that "
    "still owns courses gets 409 (type `https://edvent.example/problems/owns-courses`) "
    "until an ADMIN gives the courses another owner; the only ADMIN gets 409 too."
)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 409, 422, 503),
    summary="Delete my account (confirmed with the password)",
    description=f"{_ERASURE} A wrong password answers 403 (the token is fine: 401 would "
    "tell a client to sign in again).",
)
async def erase_me(
    body: EraseRequest, user: CurrentUser, identity: IdentityDep, hashing: HashingDep
) -> Response:
    async with identity.transaction() as session:
        attempt = await erasure.start_self_erasure(session=session, user_id=user.user_id)
    # Outside any transaction: no connection waits on Argon2.
    await erasure.check_password(hashing=hashing, attempt=attempt, password=body.password)
    async with identity.transaction() as session:
        await erasure.erase_self(session=session, attempt=attempt)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "",
    responses=problems(401, 403, 422),
    summary="List users, newest first (ADMIN)",
)
async def list_users(
    _: AdminUser,
    session: SessionDep,
    after: PageAfter,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserList:
    items, next_key = await users_usecases.list_users(session=session, limit=limit, after=after)
    return UserList(
        items=[UserPublic.model_validate(user) for user in items],
        next_cursor=encode_page_key(next_key) if next_key else None,
    )


@router.get("/{user_id:not_me}", responses=problems(401, 403, 404, 422), summary="A user (ADMIN)")
async def get_user(user_id: UUID, _: AdminUser, session: SessionDep) -> UserPublic:
    user = await users_usecases.get_user(session=session, user_id=user_id)
    return UserPublic.model_validate(user)


@router.patch(
    "/{user_id:not_me}",
    responses=problems(401, 403, 404, 409, 422),
    summary="Change a user's role or disable/enable the account (ADMIN)",
    description="`role`: publishes UserRoleChanged when the role really changes; demoting "
    "the only ADMIN (for example, yourself) answers 409; with "
    "IDENTITY_REQUIRE_VERIFIED_EMAIL_FOR_INSTRUCTOR on, promoting a user whose address is "
    "not verified to INSTRUCTOR answers 409 (type urn:edvent:problem:email-not-verified). "
    "`disabled: true`: the user cannot sign in (403, type "
    "urn:edvent:problem:account-disabled), every refresh token is revoked, and access "
    "tokens issued before are refused everywhere within seconds (UserDisabled and "
    "UserSessionsRevoked are published); disabling yourself or the last ADMIN answers "
    "409. `disabled: false` lets the user sign in again. Both may come in one request.",
)
async def change_role(
    user_id: UUID, body: UserUpdate, admin: AdminUser, session: SessionDep, identity: IdentityDep
) -> UserPublic:
    user = await users_usecases.update_user(
        session=session,
        actor_id=admin.user_id,
        user_id=user_id,
        role=body.role,
        disabled=body.disabled,
        require_verified_instructors=identity.settings.require_verified_email_for_instructor,
    )
    return UserPublic.model_validate(user)


@router.delete(
    "/{user_id:not_me}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 422),
    summary="Delete a user's account (ADMIN)",
    description=_ERASURE,
)
async def erase_user(user_id: UUID, admin: AdminUser, session: SessionDep) -> Response:
    await erasure.erase_user(session=session, actor_id=admin.user_id, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
