"""The events identity publishes, built from its rows in one place."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events import pii
from edvent_events.catalog.identity import (
    UserDisabled,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.outbox import add_event
from edvent_identity.db import data_keys as data_keys_db
from edvent_identity.db.tables import User
from edvent_identity.domain.users import Role


async def announce_registration(session: AsyncSession, *, user: User) -> None:
    """A new account's events, in the caller's transaction: a fresh data key for the
    user (kept here, and published on `identity.user-keys` first, so a reader finds it),
    then `user.registered` with the email and name encrypted under it."""
    key = pii.new_key()
    await data_keys_db.add(session, user_id=user.id, key=key)
    await add_event(session, pii.key_message(user_id=user.id, key=key))
    await add_event(session, registered_event(user, key=key))


def registered_event(user: User, *, key: bytes) -> UserRegistered:
    return UserRegistered(
        user_id=user.id,
        email=pii.encrypt(user.email, key=key, user_id=user.id),
        role=user.role.value,
        registered_at=user.created_at,
        full_name=pii.encrypt(user.full_name, key=key, user_id=user.id),
    )


def role_changed_event(user: User, *, old_role: Role) -> UserRoleChanged:
    return UserRoleChanged(
        user_id=user.id,
        old_role=old_role.value,
        new_role=user.role.value,
        changed_at=user.updated_at,
    )


def sessions_revoked_event(
    *, user_id: UUID, not_before: datetime, reason: str
) -> UserSessionsRevoked:
    return UserSessionsRevoked(user_id=user_id, not_before=not_before, reason=reason)


def disabled_event(user: User) -> UserDisabled:
    return UserDisabled(user_id=user.id, disabled=user.disabled, changed_at=user.updated_at)
