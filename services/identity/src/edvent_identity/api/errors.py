"""identity's domain errors as problem+json: the one place they are mapped."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_identity.domain.errors import (
    AccountDisabled,
    CannotDisableSelf,
    EmailAlreadyRegistered,
    EmailNotVerified,
    IdentityError,
    InvalidCredentials,
    InvalidOneTimeToken,
    InvalidRefreshToken,
    LastAdmin,
    LoginThrottled,
    NotAnAdmin,
    OwnsCourses,
    PasswordHashingBusy,
    PasswordResetThrottled,
    PolicyViolation,
    RegistrationThrottled,
    SessionEnded,
    UnknownAccount,
    UserNotFound,
    WrongPassword,
)
from edvent_platform.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnprocessableContent,
    map_domain_errors,
)

# Problem types a client may act on (RFC 9457 §3.1.1), beside about:blank.
ACCOUNT_DISABLED = "urn:edvent:problem:account-disabled"
SESSION_ENDED = "urn:edvent:problem:session-ended"
EMAIL_NOT_VERIFIED = "urn:edvent:problem:email-not-verified"


class AccountDisabledProblem(Forbidden):
    type = ACCOUNT_DISABLED


class SessionEndedProblem(Unauthorized):
    type = SESSION_ENDED


class EmailNotVerifiedProblem(Conflict):
    type = EMAIL_NOT_VERIFIED


def _invalid_token(detail: str) -> Problem:
    return SessionEndedProblem(
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
    )


class CoursesStillOwned(Conflict):
    """A refused erasure has a type of its own, so a client can tell it from other 409s."""

    type = "https://edvent.example/problems/owns-courses"
    title = "Courses still owned"


def to_problem(error: IdentityError) -> Problem:
    match error:
        case AccountDisabled():
            return AccountDisabledProblem(
                "This account is disabled; an administrator can enable it again."
            )
        case SessionEnded():
            return _invalid_token(
                "This account is disabled."
                if str(error) == "disabled"
                else "This session has ended; sign in again."
            )
        case WrongPassword():
            return Forbidden("The current password is wrong.")
        case InvalidOneTimeToken():
            return BadRequest("The link is not valid: unknown, already used or expired.")
        case PasswordResetThrottled(retry_after=seconds):
            return TooManyRequests(
                "Too many password resets from this address; try again later.",
                retry_after=seconds,
            )
        case EmailNotVerified():
            return EmailNotVerifiedProblem(
                "This user has not verified their email address yet; only verified users "
                "may become INSTRUCTOR."
            )
        case CannotDisableSelf():
            return Conflict("You cannot disable your own account.")
        case EmailAlreadyRegistered():
            return Conflict("An account with this email address already exists.")
        case InvalidCredentials():
            # One answer for an unknown email and a wrong password.
            return Unauthorized("The email address or the password is wrong.")
        case LoginThrottled(retry_after=seconds):
            return TooManyRequests("Too many failed logins; try again later.", retry_after=seconds)
        case RegistrationThrottled(retry_after=seconds):
            return TooManyRequests(
                "Too many registrations from this address; try again later.",
                retry_after=seconds,
            )
        case PasswordHashingBusy(retry_after=seconds):
            return ServiceUnavailable(
                "Too many sign-ins and registrations at once; try again shortly.",
                retry_after=seconds,
            )
        case InvalidRefreshToken():
            return Unauthorized(
                "The refresh token is not valid (unknown, expired, revoked or already used); "
                "log in again."
            )
        case UnknownAccount():
            return Unauthorized("The account of this token does not exist.")
        case UserNotFound():
            return NotFound("There is no user with this id.")
        case LastAdmin():
            return Conflict(
                "This is the only ADMIN: demoting them would leave nobody to administer "
                "the platform. Promote another user to ADMIN first."
            )
        case WrongPassword():
            return Forbidden("The password is wrong.")
        case OwnsCourses(courses=courses):
            return CoursesStillOwned(
                f"This account still owns {courses} course(s); an ADMIN must give them "
                "another owner before the account can be deleted.",
                extra={"courses": courses},
            )
        case NotAnAdmin():
            return Forbidden("This needs the role ADMIN.")
        case PolicyViolation():
            return UnprocessableContent(str(error))
    return Problem("An unexpected error occurred.")


def install_error_mapping(app: FastAPI) -> None:
    map_domain_errors(app, IdentityError, to_problem)
