"""Accounts people manage themselves: ending every session, changing and resetting a
password, verifying an address.

"Every session ends" means, in one transaction: every refresh token of the user is
revoked, `users.not_before` moves to now (identity refuses older access tokens at
once), and `user.sessions_revoked` goes out so every other service does too. The
user's row lock serialises this with logins and refreshes, which take it as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.outbox import add_event
from edvent_identity.adapters.passwords import Hashing
from edvent_identity.db import emails as emails_db
from edvent_identity.db import one_time_tokens as tokens_db
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import tokens as refresh_db
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.accounts import (
    TokenPurpose,
    hash_one_time_token,
    new_one_time_token,
    usable,
)
from edvent_identity.domain.emails import (
    password_changed_email,
    password_reset_email,
    verification_email,
)
from edvent_identity.domain.errors import (
    InvalidOneTimeToken,
    LoginThrottled,
    PasswordResetThrottled,
    UnknownAccount,
    WrongPassword,
)
from edvent_identity.domain.throttle import ThrottleRule
from edvent_identity.domain.tokens import session_cutoff
from edvent_identity.domain.users import normalize_email, normalize_password, validate_password
from edvent_identity.usecases import emails
from edvent_identity.usecases.auth import Throttles, _wait_needed
from edvent_identity.usecases.events import sessions_revoked_event
from edvent_platform.auth import Principal


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    web_origin: str
    verification_lifetime: timedelta
    reset_lifetime: timedelta
    reset_per_email: ThrottleRule
    reset_per_client: ThrottleRule


async def end_sessions(*, session: AsyncSession, user: User, reason: str) -> User:
    """Revoke every refresh token, refuse every access token issued until now, and
    tell the other services. The caller holds the user's row lock."""
    await refresh_db.revoke_user(session, user_id=user.id)
    user = await users_db.set_not_before(
        session, user_id=user.id, not_before=session_cutoff(datetime.now(UTC))
    )
    assert user.not_before is not None
    await add_event(
        session, sessions_revoked_event(user_id=user.id, not_before=user.not_before, reason=reason)
    )
    return user


async def _locked(session: AsyncSession, user_id: UUID) -> User:
    user = await users_db.by_id(session, user_id, for_update=True)
    if user is None:
        raise UnknownAccount(str(user_id))
    return user


async def send_verification(*, session: AsyncSession, user: User, policy: AccountPolicy) -> None:
    token, token_hash = new_one_time_token()
    await tokens_db.add(
        session,
        token_hash=token_hash,
        user_id=user.id,
        purpose=TokenPurpose.VERIFY_EMAIL,
        expires_at=datetime.now(UTC) + policy.verification_lifetime,
    )
    await emails.enqueue(
        session=session,
        user=user,
        content=verification_email(full_name=user.full_name, origin=policy.web_origin, token=token),
    )


async def logout_all(*, session: AsyncSession, principal: Principal) -> None:
    user = await _locked(session, principal.user_id)
    await end_sessions(session=session, user=user, reason="logout_all")


# -- changing the password: check (throttled), hash outside, then apply ----------------


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    user_id: UUID
    password_hash: str
    failure_id: int


async def start_password_change(
    *, session: AsyncSession, user: User, throttles: Throttles, client_address: str
) -> PasswordCheck:
    """Count the attempt as a failed login of the account from this client until the
    current password is proven: a stolen access token must not be a way around the
    login throttle."""
    subject = f"{user.email} {client_address}"
    limits = [("account_client", subject, throttles.login_per_account_client)]
    wait = await _wait_needed(session, limits=limits)
    if wait is not None:
        raise LoginThrottled(retry_after=wait)
    failure = await throttle_db.record(session, scope="account_client", subject=subject)
    return PasswordCheck(user_id=user.id, password_hash=user.password_hash, failure_id=failure)


async def check_current_and_hash_new(
    *, hashing: Hashing, check: PasswordCheck, current_password: str, new_password: str
) -> str:
    new_password = validate_password(new_password)
    if not await hashing.verify(check.password_hash, normalize_password(current_password)):
        raise WrongPassword
    return await hashing.hash(new_password)


async def finish_password_change(
    *, session: AsyncSession, check: PasswordCheck, new_hash: str, policy: AccountPolicy
) -> None:
    await throttle_db.forget(session, check.failure_id)
    user = await _locked(session, check.user_id)
    if user.password_hash != check.password_hash:
        # Changed (or reset) while this request was hashing: its "current" is stale.
        raise WrongPassword
    user = await users_db.set_password_hash(session, user_id=user.id, password_hash=new_hash)
    user = await end_sessions(session=session, user=user, reason="password_changed")
    await emails.enqueue(
        session=session,
        user=user,
        content=password_changed_email(full_name=user.full_name, origin=policy.web_origin),
    )


# -- resetting it by email --------------------------------------------------------------


async def request_password_reset(
    *, session: AsyncSession, email: str, client_address: str, policy: AccountPolicy
) -> None:
    """The same work for a known and an unknown address (a token is made and hashed
    either way, both limits are counted), so neither the answer nor its time tells
    whether an account exists; only a known, enabled account gets the email."""
    email = normalize_email(email)
    wait = await _wait_needed(
        session, limits=[("reset_client", client_address, policy.reset_per_client)]
    )
    if wait is not None:
        raise PasswordResetThrottled(retry_after=wait)
    # Past the address's limit the answer stays 202: nobody can flood a mailbox, and
    # a 429 here would only differ from the unknown address's answer by timing.
    address_spent = (
        await _wait_needed(session, limits=[("reset_email", email, policy.reset_per_email)])
        is not None
    )
    await throttle_db.record(session, scope="reset_client", subject=client_address)
    await throttle_db.record(session, scope="reset_email", subject=email)
    token, token_hash = new_one_time_token()
    user = await users_db.by_email(session, email)
    if user is None or user.disabled or address_spent:
        return
    await tokens_db.add(
        session,
        token_hash=token_hash,
        user_id=user.id,
        purpose=TokenPurpose.PASSWORD_RESET,
        expires_at=datetime.now(UTC) + policy.reset_lifetime,
    )
    await emails.enqueue(
        session=session,
        user=user,
        content=password_reset_email(
            origin=policy.web_origin,
            token=token,
            valid_minutes=int(policy.reset_lifetime.total_seconds() // 60),
        ),
    )


async def check_reset_token(*, session: AsyncSession, token: str) -> None:
    """`InvalidOneTimeToken` unless the token may still be used: checked before the
    new password is hashed, so made-up tokens cost no Argon2 work."""
    row = await tokens_db.by_hash(
        session, token_hash=hash_one_time_token(token), purpose=TokenPurpose.PASSWORD_RESET
    )
    if row is None or not usable(
        expires_at=row.expires_at, used_at=row.used_at, now=datetime.now(UTC)
    ):
        raise InvalidOneTimeToken


async def confirm_password_reset(
    *, session: AsyncSession, token: str, new_hash: str, policy: AccountPolicy
) -> None:
    row = await tokens_db.by_hash(
        session,
        token_hash=hash_one_time_token(token),
        purpose=TokenPurpose.PASSWORD_RESET,
        for_update=True,
    )
    # Checked again under the lock: two confirmations of one token, one wins.
    if row is None or not usable(
        expires_at=row.expires_at, used_at=row.used_at, now=datetime.now(UTC)
    ):
        raise InvalidOneTimeToken
    user = await _locked(session, row.user_id)
    # Every reset link sent so far stops working with this one.
    await tokens_db.use_all(session, user_id=user.id, purpose=TokenPurpose.PASSWORD_RESET)
    await users_db.set_password_hash(session, user_id=user.id, password_hash=new_hash)
    # The link came to the address: that proves it is the user's.
    if not user.email_verified:
        await users_db.set_email_verified(session, user_id=user.id)
    user = await end_sessions(session=session, user=user, reason="password_reset")
    await emails.enqueue(
        session=session,
        user=user,
        content=password_changed_email(full_name=user.full_name, origin=policy.web_origin),
    )


async def verify_email(*, session: AsyncSession, token: str) -> None:
    row = await tokens_db.by_hash(
        session,
        token_hash=hash_one_time_token(token),
        purpose=TokenPurpose.VERIFY_EMAIL,
        for_update=True,
    )
    if row is None or not usable(
        expires_at=row.expires_at, used_at=row.used_at, now=datetime.now(UTC)
    ):
        raise InvalidOneTimeToken
    user = await _locked(session, row.user_id)
    await tokens_db.use_all(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
    await users_db.set_email_verified(session, user_id=user.id)


async def forget_mail_and_tokens(*, session: AsyncSession, user_id: UUID) -> None:
    """What this module keeps about a person, gone (for erasure, in its transaction):
    their emails (address, links) and their open reset and verification tokens."""
    await emails_db.forget_user(session, user_id=user_id)
    for purpose in TokenPurpose:
        await tokens_db.use_all(session, user_id=user_id, purpose=purpose)
