"""The events identity publishes, built from its rows in one place."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from edvent_events.catalog.identity import (
    UserDisabled,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_identity.db.tables import User
from edvent_identity.domain.users import Role


def registered_event(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=user.id,
        email=user.email,
        role=user.role.value,
        registered_at=user.created_at,
        full_name=user.full_name,
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
