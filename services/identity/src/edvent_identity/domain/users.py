"""Accounts: roles, and the rules for emails, names and passwords."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from edvent_identity.domain.errors import LastAdmin, PolicyViolation

EMAIL_MAX_LENGTH = 254  # RFC 5321: the longest address a mail path can carry
FULL_NAME_MAX_LENGTH = 200
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128


class Role(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


def normalize_email(raw: str) -> str:
    """The one spelling of an address that is stored and compared: trimmed, lower-case."""
    return raw.strip().lower()


def validate_email(raw: str) -> str:
    """A normalised address that plausibly delivers mail, or `PolicyViolation`.

    Deliberately loose (no quoted local parts, no IP literals): the address is an
    account name here; whether mail reaches it is not checked.
    """
    email = normalize_email(raw)
    if len(email) > EMAIL_MAX_LENGTH:
        raise PolicyViolation(f"an email address has at most {EMAIL_MAX_LENGTH} characters")
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "@" in local
        or "." not in domain
        or any(not label for label in domain.split("."))
        or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in email)
    ):
        raise PolicyViolation("not an email address")
    return email


def normalize_password(raw: str) -> str:
    """NFKC, so the same password typed on another keyboard or OS still matches."""
    return unicodedata.normalize("NFKC", raw)


def validate_password(raw: str) -> str:
    """The normalised password if it satisfies the policy, else `PolicyViolation`.

    Length is counted in characters (code points after NFKC), not bytes.
    """
    password = normalize_password(raw)
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise PolicyViolation(
            f"a password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"
        )
    return password


def validate_full_name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= FULL_NAME_MAX_LENGTH:
        raise PolicyViolation(f"a full name has 1 to {FULL_NAME_MAX_LENGTH} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise PolicyViolation("a full name cannot contain control characters")
    return name


def check_role_change(*, current: Role, new: Role, admin_count: int) -> bool:
    """Whether the role really changes; `LastAdmin` if it would leave no ADMIN.

    `admin_count` is the number of ADMINs now, including this user if they are one.
    """
    if current == new:
        return False
    if current is Role.ADMIN and admin_count <= 1:
        raise LastAdmin("this is the only ADMIN; promote another user first")
    return True
