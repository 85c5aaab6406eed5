"""Accounts: roles, and the rules for emails, names and passwords."""

from __future__ import annotations

import re
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


# The rules as patterns on the text as sent, so the OpenAPI document states them exactly
# (ASCII classes: the same in Python and in the ECMA-262 regexes of JSON Schema).
# Surrounding spaces, tabs and line breaks are allowed and trimmed; the address is an
# account name here, so it is deliberately plain: RFC 5322 atoms before the @, LDH
# labels after it.
_AROUND = r"[\t\n\r ]*"
EMAIL_PATTERN = (
    rf"^{_AROUND}[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+{_AROUND}$"
)
# Anything but control and invisible format characters (no NUL for PostgreSQL, no
# right-to-left overrides), with at least one visible character; spaces around trimmed.
_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
_NAME_VISIBLE = r"[^\x00-\x20\x7f-\xa0\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
FULL_NAME_PATTERN = f"^{_NAME_CHAR}*{_NAME_VISIBLE}{_NAME_CHAR}*$"
_EMAIL = re.compile(EMAIL_PATTERN)
_FULL_NAME = re.compile(FULL_NAME_PATTERN)


def validate_email(raw: str) -> str:
    """The normalised address (trimmed, lower-case), or `PolicyViolation`."""
    if len(raw) > EMAIL_MAX_LENGTH:
        raise PolicyViolation(f"an email address has at most {EMAIL_MAX_LENGTH} characters")
    if not _EMAIL.fullmatch(raw):
        raise PolicyViolation("not an email address")
    return normalize_email(raw)


def normalize_password(raw: str) -> str:
    """NFKC, so the same password typed on another keyboard or OS still matches."""
    return unicodedata.normalize("NFKC", raw)


def validate_password(raw: str) -> str:
    """The normalised password if it satisfies the policy, else `PolicyViolation`.

    Length is counted in characters (code points) as sent, not bytes.
    """
    if not PASSWORD_MIN_LENGTH <= len(raw) <= PASSWORD_MAX_LENGTH:
        raise PolicyViolation(
            f"a password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"
        )
    return normalize_password(raw)


def validate_full_name(raw: str) -> str:
    """The name with surrounding spaces trimmed, or `PolicyViolation`."""
    if len(raw) > FULL_NAME_MAX_LENGTH:
        raise PolicyViolation(f"a full name has 1 to {FULL_NAME_MAX_LENGTH} characters")
    # Lone surrogates (JSON allows "\\ud800") cannot be stored as text: refused too.
    if not _FULL_NAME.fullmatch(raw) or any("\ud800" <= ch <= "\udfff" for ch in raw):
        raise PolicyViolation(
            "a full name has a visible character and no control or format characters"
        )
    return raw.strip(" ")


def check_role_change(*, current: Role, new: Role, admin_count: int) -> bool:
    """Whether the role really changes; `LastAdmin` if it would leave no ADMIN.

    `admin_count` is the number of ADMINs now, including this user if they are one.
    """
    if current == new:
        return False
    if current is Role.ADMIN and admin_count <= 1:
        raise LastAdmin("this is the only ADMIN; promote another user first")
    return True
