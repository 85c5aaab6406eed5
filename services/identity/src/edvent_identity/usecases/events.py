"""The events identity publishes, built from its rows in one place."""

from __future__ import annotations

from edvent_events.catalog.identity import UserRegistered
from edvent_identity.db.tables import User


def registered_event(user: User) -> UserRegistered:
    return UserRegistered(
        user_id=user.id,
        email=user.email,
        role=user.role.value,
        registered_at=user.created_at,
        full_name=user.full_name,
    )
