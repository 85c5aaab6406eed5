"""/api/v1/users: the signed-in user; for ADMINs the list and role changes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from edvent_identity.api.cursor import decode_cursor, encode_cursor
from edvent_identity.api.deps import AdminUser, IdentityDep
from edvent_identity.api.schemas import RoleUpdate, UserList, UserPublic, problems
from edvent_identity.db.users import PageKey
from edvent_identity.services import users as users_service
from edvent_platform.auth import CurrentUser

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def page_after(
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page."),
    ] = None,
) -> PageKey | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "not a valid cursor", "type": "value_error"}]
        ) from None


@router.get("/me", responses=problems(401), summary="The signed-in user")
async def me(user: CurrentUser, identity: IdentityDep) -> UserPublic:
    account = await users_service.current_account(sessions=identity.sessions, user_id=user.user_id)
    return UserPublic.model_validate(account)


@router.get(
    "",
    responses=problems(401, 403, 422),
    summary="List users, newest first (ADMIN)",
)
async def list_users(
    _: AdminUser,
    identity: IdentityDep,
    after: Annotated[PageKey | None, Depends(page_after)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserList:
    items, next_key = await users_service.list_users(
        sessions=identity.sessions, limit=limit, after=after
    )
    return UserList(
        items=[UserPublic.model_validate(user) for user in items],
        next_cursor=encode_cursor(next_key) if next_key else None,
    )


@router.get("/{user_id}", responses=problems(401, 403, 404, 422), summary="A user (ADMIN)")
async def get_user(user_id: UUID, _: AdminUser, identity: IdentityDep) -> UserPublic:
    user = await users_service.get_user(sessions=identity.sessions, user_id=user_id)
    return UserPublic.model_validate(user)


@router.patch(
    "/{user_id}",
    responses=problems(401, 403, 404, 409, 422),
    summary="Change a user's role (ADMIN)",
    description="Publishes UserRoleChanged when the role really changes. Demoting the "
    "only ADMIN (for example, yourself) answers 409. Access tokens issued before keep "
    "the old role until they expire; the next refresh carries the new one.",
)
async def change_role(
    user_id: UUID, body: RoleUpdate, admin: AdminUser, identity: IdentityDep
) -> UserPublic:
    user = await users_service.change_role(
        sessions=identity.sessions, actor_id=admin.user_id, user_id=user_id, role=body.role
    )
    return UserPublic.model_validate(user)
