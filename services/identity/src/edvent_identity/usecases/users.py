"""Reading users, changing roles, and the bootstrap admin."""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.outbox import add_event
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.errors import (
    CannotDisableSelf,
    EmailNotVerified,
    LastAdmin,
    NotAnAdmin,
    PolicyViolation,
    SessionEnded,
    UnknownAccount,
    UserNotFound,
)
from edvent_identity.domain.users import (
    Role,
    check_role_change,
    validate_email,
    validate_full_name,
)
from edvent_identity.usecases import accounts
from edvent_identity.usecases.events import (
    announce_registration,
    disabled_event,
    role_changed_event,
)
from edvent_platform.auth import Principal
from edvent_platform.cursor import PageKey


async def get_user(*, session: AsyncSession, user_id: UUID) -> User:
    user = await users_db.by_id(session, user_id)
    if user is None:
        raise UserNotFound(str(user_id))
    return user


async def current_account(*, session: AsyncSession, principal: Principal) -> User:
    """The signed-in user. identity owns the accounts, so it checks them on every
    request: a token for an account that no longer exists, is disabled, or was issued
    before the user's sessions ended is no good, whatever it says."""
    user = await users_db.by_id(session, principal.user_id)
    if user is None:
        raise UnknownAccount(str(principal.user_id))
    if user.disabled:
        raise SessionEnded("disabled")
    if user.not_before is not None and principal.issued_at < user.not_before:
        raise SessionEnded("revoked")
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


async def update_user(
    *,
    session: AsyncSession,
    actor_id: UUID,
    user_id: UUID,
    role: Role | None = None,
    disabled: bool | None = None,
    require_verified_instructors: bool = False,
) -> User:
    """An ADMIN's change of a user's role and/or disabled flag, in one transaction."""
    admins = await users_db.lock_admins(session)
    # Checked again under the lock: the caller may have been demoted between the
    # request's authorisation and now, and must not change roles after that.
    actor = await users_db.by_id(session, actor_id)
    if actor is None or actor.role is not Role.ADMIN or actor.disabled:
        raise NotAnAdmin(str(actor_id))
    user = await users_db.by_id(session, user_id, for_update=True)
    if user is None:
        raise UserNotFound(str(user_id))
    if role is not None:
        counted = user.role is Role.ADMIN and not user.disabled
        user = await _change_role(
            session,
            user=user,
            role=role,
            admins=admins,
            require_verified_instructors=require_verified_instructors,
        )
        if counted and user.role is not Role.ADMIN:
            admins -= 1
    if disabled is not None and disabled is not user.disabled:
        user = await _set_disabled(
            session, actor_id=actor_id, user=user, disabled=disabled, admins=admins
        )
    return user


async def _change_role(
    session: AsyncSession,
    *,
    user: User,
    role: Role,
    admins: int,
    require_verified_instructors: bool,
) -> User:
    old_role = user.role
    # A disabled ADMIN is not among the `admins` who can sign in, but demoting them
    # takes nothing from those.
    if not check_role_change(
        current=old_role, new=role, admin_count=admins + (1 if user.disabled else 0)
    ):
        return user
    if require_verified_instructors and role is Role.INSTRUCTOR and not user.email_verified:
        raise EmailNotVerified(str(user.id))
    user = await users_db.set_role(session, user_id=user.id, role=role)
    await add_event(session, role_changed_event(user, old_role=old_role))
    return user


async def _set_disabled(
    session: AsyncSession, *, actor_id: UUID, user: User, disabled: bool, admins: int
) -> User:
    if disabled:
        if user.id == actor_id:
            raise CannotDisableSelf(str(actor_id))
        if user.role is Role.ADMIN and admins <= 1:
            raise LastAdmin(str(user.id))
    user = await users_db.set_disabled(session, user_id=user.id, disabled=disabled)
    await add_event(session, disabled_event(user))
    if disabled:
        user = await accounts.end_sessions(session=session, user=user, reason="disabled")
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
            # Whoever runs the command vouches for the address.
            email_verified=True,
        )
        if user is not None:
            await announce_registration(session, user=user)
            return BootstrapOutcome.CREATED, user
        # Someone registered the email a moment ago: promote that account.
        user = await users_db.by_email(session, email, for_update=True)
        assert user is not None
    if not user.email_verified:
        user = await users_db.set_email_verified(session, user_id=user.id)
    if user.role is Role.ADMIN:
        return BootstrapOutcome.UNCHANGED, user
    old_role = user.role
    user = await users_db.set_role(session, user_id=user.id, role=Role.ADMIN)
    await add_event(session, role_changed_event(user, old_role=old_role))
    return BootstrapOutcome.PROMOTED, user
