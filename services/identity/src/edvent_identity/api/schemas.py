"""Request and response bodies of identity's HTTP API."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from edvent_identity.domain.users import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    Role,
    validate_email,
    validate_full_name,
    validate_password,
)

# Generous bounds on what is read at all; the rules themselves are in the domain.
_EMAIL = Annotated[str, Field(max_length=4 * EMAIL_MAX_LENGTH, examples=["ada@example.org"])]
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


class UserCreate(BaseModel):
    email: _EMAIL = Field(description="Trimmed and lower-cased; unique regardless of case.")
    password: str = Field(
        description=f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
        "(counted after Unicode NFKC normalisation).",
        max_length=4 * PASSWORD_MAX_LENGTH,
    )
    full_name: str = Field(
        description=f"1 to {FULL_NAME_MAX_LENGTH} characters after trimming.",
        max_length=4 * FULL_NAME_MAX_LENGTH,
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
    email: _EMAIL
    password: _LOGIN_PASSWORD

    @field_validator("email")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        # Otherwise any string is looked up (and simply not found), but PostgreSQL text
        # cannot hold NUL at all (a 500), and no registered address has a control
        # character. Checked after trimming, which the lookup does too.
        if any(unicodedata.category(ch) == "Cc" for ch in value.strip()):
            raise ValueError("an email address cannot contain control characters")
        return value


class RefreshRequest(BaseModel):
    refresh_token: _REFRESH_TOKEN


class TokenPair(BaseModel):
    access_token: str = Field(description="A JWT; send it as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(
        description="Opaque; single use: POST it to /api/v1/auth/refresh for a new pair."
    )
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type, no secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class UserList(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Jwks(BaseModel):
    keys: list[dict[str, Any]]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


_PROBLEM_SCHEMA = ProblemDetails.model_json_schema()


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    return {
        status: {
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
            "description": {
                401: "Missing, invalid or expired credentials",
                403: "The caller's role may not do this",
                404: "No such user",
                409: "Conflict with the current state",
                422: "The request is not valid",
                429: "Too many attempts; see Retry-After",
                503: "Too busy hashing passwords right now; see Retry-After",
            }.get(status, "Error"),
        }
        for status in statuses
    }
