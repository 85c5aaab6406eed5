"""Request and response bodies of identity's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from edvent_identity.domain.users import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    FULL_NAME_MAX_LENGTH,
    FULL_NAME_PATTERN,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    Role,
    validate_email,
    validate_full_name,
    validate_password,
)
from edvent_platform.openapi import problem_responses

# The domain's rules, stated in the document too; the domain still checks them.
_EMAIL = Annotated[
    str,
    Field(
        max_length=EMAIL_MAX_LENGTH,
        json_schema_extra={"pattern": EMAIL_PATTERN},
        examples=["ada@example.org"],
    ),
]
_LOGIN_PASSWORD = Annotated[str, Field(min_length=1, max_length=1024)]
_REFRESH_TOKEN = Annotated[str, Field(min_length=1, max_length=256)]


class UserPublic(BaseModel):
    """A user as every client sees it; never the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str
    role: Role
    created_at: AwareDatetime
    email_verified: bool = Field(
        description="Whether the user confirmed the address (the link sent at registration)."
    )
    disabled: bool = Field(description="A disabled user cannot sign in (set by an ADMIN).")


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.org",
                    "password": "a long enough password",
                    "full_name": "Ada",
                }
            ]
        }
    )

    email: _EMAIL = Field(description="Trimmed and lower-cased; unique regardless of case.")
    password: str = Field(
        description=f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
    )
    full_name: str = Field(
        description=f"1 to {FULL_NAME_MAX_LENGTH} characters, spaces around it trimmed; no "
        "control or invisible format characters.",
        min_length=1,
        max_length=FULL_NAME_MAX_LENGTH,
        json_schema_extra={"pattern": FULL_NAME_PATTERN},
    )

    @field_validator("email")
    @classmethod
    def _email_rules(cls, value: str) -> str:
        return validate_email(value)

    @field_validator("password")
    @classmethod
    def _password_rules(cls, value: str) -> str:
        return validate_password(value)

    @field_validator("full_name")
    @classmethod
    def _full_name_rules(cls, value: str) -> str:
        return validate_full_name(value)


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.org", "password": "a long enough password"}]
        }
    )

    email: _EMAIL
    password: _LOGIN_PASSWORD

    @field_validator("email")
    @classmethod
    def _email_rules(cls, value: str) -> str:
        # No account has an address that breaks the rules, so such a login is refused
        # as invalid (422) rather than looked up.
        return validate_email(value)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"refresh_token": "d2hhdCBhIHJlZnJlc2ggdG9rZW4gbG9va3MgbGlrZQ"}]
        }
    )

    refresh_token: _REFRESH_TOKEN


class TokenPair(BaseModel):
    access_token: str = Field(description="A JWT; send it as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(
        description="Opaque; single use: POST it to /api/v1/auth/refresh for a new pair."
    )
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type, no secret
    expires_in: int = Field(description="Seconds until the access token expires.")


def _one_change_at_least(schema: dict[str, Any]) -> None:
    # What the validators below enforce, said in the document: at least one field, and
    # a field given is not null (leaving it out is how to keep it).
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        branches = prop.pop("anyOf", None)
        if branches:
            prop.update(next(b for b in branches if b.get("type") != "null"))
        prop.pop("default", None)
    schema["examples"] = [{"role": "INSTRUCTOR"}, {"disabled": True}]


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_change_at_least)

    role: Role | None = Field(default=None, description="The new role.")
    disabled: StrictBool | None = Field(
        default=None,
        description="true: the user cannot sign in and every session ends; false: "
        "signing in works again.",
    )

    @field_validator("role", "disabled", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out to keep it; null is not a value")
        return value

    @model_validator(mode="after")
    def _something(self) -> UserUpdate:
        if self.role is None and self.disabled is None:
            raise ValueError("give role, disabled or both")
        return self


_NEW_PASSWORD = Annotated[
    str,
    Field(
        description=f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
    ),
]
_ONE_TIME_TOKEN = Annotated[
    str, Field(min_length=1, max_length=256, description="The `token` of the emailed link.")
]


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "a long enough password",
                    "new_password": "an even longer password",
                }
            ]
        }
    )

    current_password: _LOGIN_PASSWORD
    new_password: _NEW_PASSWORD

    @field_validator("new_password")
    @classmethod
    def _password_rules(cls, value: str) -> str:
        return validate_password(value)


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.org"}]})

    email: _EMAIL

    @field_validator("email")
    @classmethod
    def _email_rules(cls, value: str) -> str:
        return validate_email(value)


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "b3BhcXVlIHRva2VuIGZyb20gdGhlIGVtYWlsZWQgbGluaw",
                    "new_password": "an even longer password",
                }
            ]
        }
    )

    token: _ONE_TIME_TOKEN
    new_password: _NEW_PASSWORD

    @field_validator("new_password")
    @classmethod
    def _password_rules(cls, value: str) -> str:
        return validate_password(value)


class EmailVerification(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "b3BhcXVlIHRva2VuIGZyb20gdGhlIGVtYWlsZWQgbGluaw"}]
        }
    )

    token: _ONE_TIME_TOKEN


class EraseRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"password": "a long enough password"}]}
    )

    password: _LOGIN_PASSWORD = Field(description="The account's current password.")


class ExportPending(BaseModel):
    """A data export on its way: ask again after `Retry-After` seconds."""

    status: Literal["pending"] = "pending"
    export_id: UUID
    requested_at: AwareDatetime
    parts_expected: list[str] = Field(description="The services asked for their part.")
    parts_received: list[str] = Field(description="The services whose part is in.")


class UserList(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Jwks(BaseModel):
    keys: list[dict[str, Any]]


_DESCRIPTIONS = {
    400: "The token is unknown, used or expired",
    404: "No such user",
    409: "Conflict with the current state",
    429: "Too many attempts; see Retry-After",
    503: "Too busy hashing passwords right now; see Retry-After",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    return problem_responses(*statuses, descriptions=_DESCRIPTIONS)
