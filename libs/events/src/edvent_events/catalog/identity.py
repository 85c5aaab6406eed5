"""Events published by the identity service on `identity.users`."""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from pydantic import AwareDatetime, Field

from edvent_events.contract import Event, KnownValues, register
from edvent_events.topics import IDENTITY_USERS

ROLES: Final = ("STUDENT", "INSTRUCTOR", "ADMIN")
# Text, not a closed set: identity may add a role within v1, and a reader that only
# stores or forwards the role must not fail on it (see `KnownValues`).
Role = Annotated[str, KnownValues(*ROLES)]
SOURCE = "/services/identity"


@register
class UserRegistered(Event):
    """A new account was created.

    Emitted once per user: on self-registration (role STUDENT) and when the bootstrap
    command creates the first admin (role ADMIN). `email` and `full_name` are
    encrypted with the user's own key, which identity destroys at erasure.
    """

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.registered.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Id of the user; also the Kafka key and ce_subject.")
    email: str = Field(
        description=(
            "The user's email address (trimmed, lower-cased), encrypted for this user:"
            " `enc:v1:<base64url(nonce|ciphertext)>`, AES-256-GCM with the user id as"
            " associated data; the key is on `identity.user-keys` until the user is erased"
            ' (libs/events README, "Personal data and erasure").'
        )
    )
    role: Role = Field(description="The role the account starts with.")
    registered_at: AwareDatetime = Field(description="When the account was created (RFC 3339).")
    full_name: str | None = Field(
        default=None,
        description=(
            "The name the user gave, for display (added in 1.1; absent before), encrypted"
            " like `email`."
        ),
    )


@register
class UserRoleChanged(Event):
    """A user's role changed (an admin's PATCH, or the bootstrap command promoting a user).

    Emitted only when the role really changed; `new_role` is the role from now on.
    """

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.role_changed.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Id of the user; also the Kafka key and ce_subject.")
    old_role: Role = Field(description="The role before the change.")
    new_role: Role = Field(description="The role after the change.")
    changed_at: AwareDatetime = Field(description="When the role changed (RFC 3339).")


@register
class UserDeleted(Event):
    """An account was erased (by its owner or an admin).

    Identity has removed the email, the name and the password hash. Every subscriber
    removes or pseudonymises what it holds about the person and refuses the user's
    access tokens from now on, whatever they say. The id is never reused.
    """

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.deleted.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Id of the erased user; also the Kafka key and ce_subject.")
    deleted_at: AwareDatetime = Field(description="When the account was erased (RFC 3339).")


SESSION_REVOCATION_REASONS: Final = ("password_changed", "password_reset", "logout_all", "disabled")


@register
class UserSessionsRevoked(Event):
    """Every session of a user ended: refresh tokens are revoked, and access tokens
    issued before `not_before` must be refused by every service from now on."""

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.sessions_revoked.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Id of the user; also the Kafka key and ce_subject.")
    not_before: AwareDatetime = Field(
        description="Access tokens whose `iat` is before this moment are no longer valid."
    )
    reason: Annotated[str, KnownValues(*SESSION_REVOCATION_REASONS)] = Field(
        description="Why the sessions ended."
    )


@register
class UserDisabled(Event):
    """An admin disabled an account (`disabled: true`) or enabled it again (`false`).

    A disabled user cannot sign in; a `UserSessionsRevoked` (reason `disabled`) ends the
    sessions it had. The newest `changed_at` per user wins.
    """

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.disabled.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Id of the user; also the Kafka key and ce_subject.")
    disabled: bool = Field(description="True when the account was disabled, false when enabled.")
    changed_at: AwareDatetime = Field(description="When the change was made (RFC 3339).")


@register
class UserExportRequested(Event):
    """A user asked for a copy of their data (`GET /api/v1/users/me/export`).

    Every service holding something about the user answers with its
    `user_data.exported` part, sealed to `public_key`, which only identity can open
    (libs/events README, "Data exports").
    """

    topic = IDENTITY_USERS
    ce_type = "edvent.identity.user.export_requested.v1"
    source = SOURCE
    key_field = "user_id"

    user_id: UUID = Field(description="Whose data to gather; also the Kafka key and ce_subject.")
    export_id: UUID = Field(description="Names this request; each part carries it back.")
    public_key: str = Field(
        min_length=43,
        max_length=43,
        description="X25519 public key (base64url, unpadded) to seal the parts to.",
    )
    requested_at: AwareDatetime = Field(description="When the user asked (RFC 3339).")
