"""Events published by the identity service on `identity.users`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from edvent_events.contract import Event, register

Role = Literal["STUDENT", "INSTRUCTOR", "ADMIN"]
SOURCE = "/services/identity"


@register
class UserRegistered(Event):
    """A new account was created; new accounts are STUDENT unless created by an admin tool."""

    topic = "identity.users"
    ce_type = "edvent.identity.user.registered.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID
    email: str = Field(description="Lower-cased, trimmed email address")
    role: Role
    registered_at: AwareDatetime


@register
class UserRoleChanged(Event):
    """An admin (or the bootstrap command) changed a user's role."""

    topic = "identity.users"
    ce_type = "edvent.identity.user.role_changed.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID
    old_role: Role
    new_role: Role
    changed_at: AwareDatetime


_ = datetime
