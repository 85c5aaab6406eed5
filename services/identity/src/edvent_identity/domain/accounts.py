"""Single-use tokens for password resets and email verification.

A token is 256 random bits sent to the user's address once and stored only as its
SHA-256, so a copy of the table is no key to anybody's account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

ONE_TIME_TOKEN_BYTES = 32


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a name, no secret
    VERIFY_EMAIL = "verify_email"


PASSWORD_RESET_LIFETIME = timedelta(minutes=30)


def new_one_time_token() -> tuple[str, bytes]:
    """The token for the link, and the hash to store."""
    token = secrets.token_urlsafe(ONE_TIME_TOKEN_BYTES)
    return token, hash_one_time_token(token)


def hash_one_time_token(token: str) -> bytes:
    # A fast hash is enough: the token is 256 random bits, not a guessable password.
    return hashlib.sha256(token.encode("utf-8")).digest()


def usable(*, expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    return used_at is None and now < expires_at
