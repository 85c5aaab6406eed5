"""Reading users, changing roles, and the bootstrap admin."""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.outbox import add_event
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.errors import (
    NotAnAdmin,
    PolicyViolation,
    UnknownAccount,
    UserNotFound,
)
from edvent_identity.domain.users import (
    Role,
    check_role_change,
    validate_email,
    validate_full_name,
)
from edvent_identity.usecases.events import registered_event, role_changed_event
from edvent_platform.cursor import PageKey


async def get_user(*, session: AsyncSession, user_id: UUID) -> User:
    user = await users_db.by_id(session, user_id)
    if user is None:
        raise UserNotFound(str(user_id))
    return user


async def current_account(*, session: AsyncSession, user_id: UUID) -> User:
    """The signed-in user; a token for an account that no longer exists is no good."""
    user = await users_db.by_id(session, user_id)
    if user is None:
        raise UnknownAccount(str(user_id))
    return user


async def list_users(
    *,
    session: AsyncSession,
    limit: int,
    after: PageKey | None,
) -> tuple[list[User], PageKey | None]:
    """A page of users, newest first, and the key to continue after it (if any)."""
    rows = await users_db.page(session, limit=limit + 1, after=after)
    items = rows[:limit]
    more = len(rows) > limit
    return items, (PageKey(items[-1].created_at, items[-1].id) if more else None)


async def change_role(*, session: AsyncSession, actor_id: UUID, user_id: UUID, role: Role) -> User:
    admins = await users_db.lock_admins(session)
    # Checked again under the lock: the caller may have been demoted between the
    # request's authorisation and now, and must not change roles after that.
    actor = await users_db.by_id(session, actor_id)
    if actor is None or actor.role is not Role.ADMIN:
        raise NotAnAdmin(str(actor_id))
    user = await users_db.by_id(session, user_id, for_update=True)
    if user is None:
        raise UserNotFound(str(user_id))
    old_role = user.role
    if not check_role_change(current=old_role, new=role, admin_count=admins):
        return user
    user = await users_db.set_role(session, user_id=user_id, role=role)
    await add_event(session, role_changed_event(user, old_role=old_role))
    return user


class BootstrapOutcome(Enum):
    CREATED = "created"
    PROMOTED = "promoted"
    UNCHANGED = "unchanged"


async def bootstrap_admin(
    *,
    session: AsyncSession,
    email: str,
    password_hash: str | None,
    full_name: str,
) -> tuple[BootstrapOutcome, User]:
    """Make `email` an ADMIN: create the account (with `password_hash`, made by the
    caller outside the transaction), or promote it; idempotent.

    An existing account keeps its password and name.
    """
    email, full_name = validate_email(email), validate_full_name(full_name)
    await users_db.lock_admins(session)  # also serialises concurrent bootstrap runs
    user = await users_db.by_email(session, email, for_update=True)
    if user is None:
        if password_hash is None:
            raise PolicyViolation(f"no account {email} yet: a password is needed to create it")
        user = await users_db.insert_if_new(
            session,
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=Role.ADMIN,
        )
        if user is not None:
            await add_event(session, registered_event(user))
            return BootstrapOutcome.CREATED, user
        # Someone registered the email a moment ago: promote that account.
        user = await users_db.by_email(session, email, for_update=True)
        assert user is not None
    if user.role is Role.ADMIN:
        return BootstrapOutcome.UNCHANGED, user
    old_role = user.role
    user = await users_db.set_role(session, user_id=user.id, role=Role.ADMIN)
    await add_event(session, role_changed_event(user, old_role=old_role))
    return BootstrapOutcome.PROMOTED, user
