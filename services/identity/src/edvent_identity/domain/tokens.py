"""Access-token claims and the life of refresh tokens.

A refresh token is 256 random bits, given to the client once and stored only as its
SHA-256. Every login starts a *family*; each refresh rotates the presented token
(marks it rotated) and issues its successor in the same family. Presenting a rotated
token again means two parties hold it, so the whole family is revoked.

A family also has an absolute lifetime from its login: past it, refreshing fails even
with a fresh token, so a stolen token cannot be kept alive forever by refreshing.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

REFRESH_TOKEN_BYTES = 32


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def hash_refresh_token(token: str) -> bytes:
    # A fast hash is enough: the token is 256 random bits, not a guessable password.
    return hashlib.sha256(token.encode("utf-8")).digest()


class RefreshVerdict(Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    REUSED = "reused"  # already rotated: revoke the family
    REVOKED = "revoked"
    EXPIRED = "expired"
    FAMILY_EXPIRED = "family_expired"  # the login is older than the family's lifetime


@dataclass(frozen=True, slots=True)
class RefreshTokenState:
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None
    family_started_at: datetime


def refresh_expiry(
    *, now: datetime, idle: timedelta, family_started_at: datetime, family_max_age: timedelta
) -> datetime:
    """When a newly issued refresh token expires: idle lifetime, capped by the family's."""
    return min(now + idle, family_started_at + family_max_age)


def judge_refresh(
    state: RefreshTokenState | None, *, now: datetime, family_max_age: timedelta
) -> RefreshVerdict:
    if state is None:
        return RefreshVerdict.UNKNOWN
    # Reuse is checked first: a rotated token is evidence of theft even when its
    # family was revoked or it has expired since.
    if state.rotated_at is not None:
        return RefreshVerdict.REUSED
    if state.revoked_at is not None:
        return RefreshVerdict.REVOKED
    if state.expires_at <= now:
        return RefreshVerdict.EXPIRED
    # Checked as well as capped at issue: a lowered cap applies to tokens issued before.
    if state.family_started_at + family_max_age <= now:
        return RefreshVerdict.FAMILY_EXPIRED
    return RefreshVerdict.VALID


def access_token_claims(
    *,
    user_id: UUID,
    role: str,
    issuer: str,
    audience: str,
    issued_at: datetime,
    lifetime: timedelta,
    token_id: str,
) -> dict[str, Any]:
    return {
        "sub": str(user_id),
        "role": role,
        "iss": issuer,
        "aud": audience,
        "iat": issued_at_claim(issued_at),
        "exp": int(issued_at.timestamp()) + int(lifetime.total_seconds()),
        "jti": token_id,
    }


def issued_at_claim(moment: datetime) -> float:
    """`iat` in seconds with milliseconds (floored): whole seconds could not tell a
    token issued just before a session cut-off from one issued just after it."""
    return math.floor(moment.timestamp() * 1000) / 1000


def session_cutoff(moment: datetime) -> datetime:
    """The `not_before` for sessions ending at `moment`: rounded *up* to the
    millisecond, so every token issued up to `moment` (its `iat` floored to the
    millisecond) is before it, and a token issued a millisecond later is not."""
    millis = math.ceil(moment.timestamp() * 1000)
    return datetime.fromtimestamp(millis / 1000, moment.tzinfo)
