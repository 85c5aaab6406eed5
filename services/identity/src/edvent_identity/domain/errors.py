"""What can go wrong in identity's use cases; the API maps each kind to one status."""

# Named for what happened (EmailAlreadyRegistered), like facts, not "...Error".
# ruff: noqa: N818

from __future__ import annotations


class IdentityError(Exception):
    """Base of identity's domain errors."""


class PolicyViolation(IdentityError, ValueError):
    """Input breaks a rule (email shape, password length, ...); a ValueError, so request
    models that call the rule report it as an ordinary validation error (422)."""


class EmailAlreadyRegistered(IdentityError):
    pass


class InvalidCredentials(IdentityError):
    """Wrong email or wrong password: deliberately one error for both."""


class LoginThrottled(IdentityError):
    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


class RegistrationThrottled(IdentityError):
    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"too many registrations; retry after {retry_after} s")
        self.retry_after = retry_after


class PasswordHashingBusy(IdentityError):
    """Every hashing worker is busy and the queue in front of them is full."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"password hashing is at capacity; retry after {retry_after} s")
        self.retry_after = retry_after


class InvalidRefreshToken(IdentityError):
    """Unknown, expired, revoked, or already rotated (then its family is revoked)."""


class UnknownAccount(IdentityError):
    """A valid access token names a user that does not exist (any more)."""


class UserNotFound(IdentityError):
    pass


class NotAnAdmin(IdentityError):
    """The caller was an ADMIN when their request was authorised, but is not any more."""


class LastAdmin(IdentityError):
    """The change would leave the platform without an ADMIN."""


class AccountDisabled(IdentityError):
    """The right password, but an ADMIN disabled the account."""


class SessionEnded(IdentityError):
    """A valid access token from before the user's sessions were revoked, or of a
    disabled account."""


class WrongPassword(IdentityError):
    """A signed-in user confirmed an action (a password change, an erasure) with the
    wrong password."""


class InvalidOneTimeToken(IdentityError):
    """A reset or verification token that is unknown, used or expired."""


class PasswordResetThrottled(IdentityError):
    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"too many password resets; retry after {retry_after} s")
        self.retry_after = retry_after


class EmailNotVerified(IdentityError):
    """Promotion to INSTRUCTOR needs a verified address (when so configured)."""


class CannotDisableSelf(IdentityError):
    """An ADMIN tried to disable their own account."""


class OwnsCourses(IdentityError):
    """The account still owns courses, which must be moved before it can be erased."""

    def __init__(self, *, courses: int) -> None:
        super().__init__(f"the account owns {courses} course(s)")
        self.courses = courses
