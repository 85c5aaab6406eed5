"""Registration, login, refresh and logout.

Registration and login hash a password, which must not happen while a database
connection waits: each is two steps around the hashing, and the route runs each
step in a unit of work of its own.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.adapters.passwords import Hashing
from edvent_identity.adapters.signing_keys import SigningKey
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import tokens as tokens_db
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.errors import (
    AccountDisabled,
    EmailAlreadyRegistered,
    InvalidCredentials,
    LoginThrottled,
    RegistrationThrottled,
)
from edvent_identity.domain.throttle import SlowdownRule, ThrottleRule, retry_after, slowdown_wait
from edvent_identity.domain.tokens import (
    RefreshTokenState,
    RefreshVerdict,
    access_token_claims,
    hash_refresh_token,
    judge_refresh,
    new_refresh_token,
    refresh_expiry,
)
from edvent_identity.domain.users import (
    Role,
    normalize_email,
    normalize_password,
    validate_email,
    validate_full_name,
    validate_password,
)
from edvent_identity.usecases.events import announce_registration

logger = logging.getLogger("edvent.identity.auth")


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta
    family_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class Throttles:
    # Failures for one account from one client address: that client is refused.
    login_per_account_client: ThrottleRule
    # Failures from one client address, whatever the accounts.
    login_per_client: ThrottleRule
    # Failures for one account from everywhere: every attempt slowed, never locked.
    login_account_slowdown: SlowdownRule
    register_per_client: ThrottleRule


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What the first step of a login found, for the steps after the hashing."""

    email: str
    client_address: str
    user: User | None
    # This attempt's rows, counted as failures until the password proves right.
    failures: tuple[int, ...]


async def _wait_needed(
    session: AsyncSession, *, limits: list[tuple[str, str, ThrottleRule]]
) -> int | None:
    """Lock the limits' keys (until the transaction ends) and say how long to wait,
    if any of them is used up."""
    await throttle_db.lock(session, [(scope, subject) for scope, subject, _ in limits])
    now = await throttle_db.now(session)
    waits = [
        wait
        for scope, subject, rule in limits
        if (
            wait := retry_after(
                rule,
                nth_latest_failure=await throttle_db.nth_latest_failure(
                    session, scope=scope, subject=subject, n=rule.max_failures, window=rule.window
                ),
                now=now,
            )
        )
        is not None
    ]
    return max(waits) if waits else None


async def admit_registration(
    *, session: AsyncSession, throttles: Throttles, email: str, client_address: str
) -> bool:
    """Count a registration attempt against the client address (`RegistrationThrottled`
    past the limit) and say whether the email is taken already.

    Taken means 409 without hashing: the 409 itself says the account exists, so its
    being faster tells nothing more. The caller raises it after the commit, so the
    attempt still counts.
    """
    limits = [("register", client_address, throttles.register_per_client)]
    wait = await _wait_needed(session, limits=limits)
    if wait is not None:
        raise RegistrationThrottled(retry_after=wait)
    await throttle_db.record(session, scope="register", subject=client_address)
    return await users_db.by_email(session, validate_email(email)) is not None


async def register(
    *, session: AsyncSession, email: str, password_hash: str, full_name: str
) -> User:
    email, full_name = validate_email(email), validate_full_name(full_name)
    # ON CONFLICT, not the look-up alone: two registrations racing for one email
    # meet at the unique constraint and exactly one wins.
    user = await users_db.insert_if_new(
        session, email=email, full_name=full_name, password_hash=password_hash, role=Role.STUDENT
    )
    if user is None:
        raise EmailAlreadyRegistered(email)
    await announce_registration(session, user=user)
    return user


async def hash_new_password(*, hashing: Hashing, password: str) -> str:
    return await hashing.hash(validate_password(password))


async def start_login(
    *, session: AsyncSession, throttles: Throttles, email: str, client_address: str
) -> LoginAttempt:
    """Check the throttles, count the attempt as failed until proven otherwise, and
    find the account.

    A client address that failed too often for this account is refused (429) for this
    account only: a stranger's guesses never lock the owner out. Across all addresses
    the account is only slowed down (`SlowdownRule`), for at most a minute by default.
    """
    email = normalize_email(email)
    account_client = f"{email} {client_address}"
    limits = [
        ("account_client", account_client, throttles.login_per_account_client),
        ("client", client_address, throttles.login_per_client),
    ]
    # The account's key is locked with the others, so parallel attempts see each other.
    await throttle_db.lock(session, [("email", email)])
    wait = await _wait_needed(session, limits=limits)
    failures, latest = await throttle_db.count_and_latest(
        session, scope="email", subject=email, window=throttles.login_account_slowdown.window
    )
    slowdown = slowdown_wait(
        throttles.login_account_slowdown,
        failures=failures,
        latest_failure=latest,
        now=await throttle_db.now(session),
    )
    if wait is not None or slowdown is not None:
        raise LoginThrottled(retry_after=max(wait or 0, slowdown or 0))
    # Counted as failed until the password is checked, so guesses sent in parallel
    # are limited as strictly as guesses sent one after another.
    recorded = (
        await throttle_db.record(session, scope="email", subject=email),
        await throttle_db.record(session, scope="account_client", subject=account_client),
        await throttle_db.record(session, scope="client", subject=client_address),
    )
    user = await users_db.by_email(session, email)
    return LoginAttempt(email=email, client_address=client_address, user=user, failures=recorded)


async def check_password(*, hashing: Hashing, attempt: LoginAttempt, password: str) -> str | None:
    """`InvalidCredentials` unless the password is right; a new hash if the stored one
    was made with other parameters."""
    password = normalize_password(password)
    if attempt.user is None:
        await hashing.verify_dummy(password)
        raise InvalidCredentials
    if not await hashing.verify(attempt.user.password_hash, password):
        raise InvalidCredentials
    if hashing.needs_rehash(attempt.user.password_hash):
        return await hashing.hash(password)
    return None


async def finish_login(
    *,
    session: AsyncSession,
    attempt: LoginAttempt,
    new_hash: str | None,
    key: SigningKey,
    policy: TokenPolicy,
) -> IssuedTokens:
    assert attempt.user is not None
    # Locked: a revocation of every session (password change, disable) either comes
    # first and is seen here, or waits until this sign-in's token is in place to revoke.
    current = await users_db.by_id(session, attempt.user.id, for_update=True)
    if current is None or current.password_hash != attempt.user.password_hash:
        # Erased, or the password changed while this one was checked against the old.
        raise InvalidCredentials
    if current.disabled:
        # After the password check, so the answer tells only the account's owner. The
        # attempt stays counted as failed: a disabled account is no way to sign in.
        raise AccountDisabled(str(current.id))
    # This client's failures for the account are forgiven; the account's failures
    # from elsewhere are not (they slow down whoever is guessing from there).
    await throttle_db.clear(
        session, scope="account_client", subject=f"{attempt.email} {attempt.client_address}"
    )
    for failure in attempt.failures:
        await throttle_db.forget(session, failure)
    if new_hash is not None:
        await users_db.replace_password_hash(
            session, user_id=current.id, old_hash=current.password_hash, new_hash=new_hash
        )
    return await _issue(
        session,
        key=key,
        policy=policy,
        user=current,
        family_id=uuid.uuid4(),
        family_started_at=datetime.now(UTC),
    )


async def refresh(
    *, session: AsyncSession, key: SigningKey, policy: TokenPolicy, refresh_token: str
) -> IssuedTokens | RefreshVerdict:
    """A new pair, or why not. Not raised: a reused token's family is revoked, and
    that must be committed before the caller answers 401."""
    token_hash = hash_refresh_token(refresh_token)
    # The user's row first, as everything that ends all of a user's sessions takes it:
    # a successor issued here is then in place before such a revocation looks.
    owner = await tokens_db.owner_of(session, token_hash)
    user = None if owner is None else await users_db.by_id(session, owner, for_update=True)
    await tokens_db.lock_family_of(session, token_hash)
    stored = await tokens_db.by_hash_for_update(session, token_hash)
    verdict = judge_refresh(
        None
        if stored is None
        else RefreshTokenState(
            expires_at=stored.expires_at,
            rotated_at=stored.rotated_at,
            revoked_at=stored.revoked_at,
            family_started_at=stored.family_started_at,
        ),
        now=datetime.now(UTC),
        family_max_age=policy.family_lifetime,
    )
    if stored is None or verdict is not RefreshVerdict.VALID:
        if stored is not None and verdict is RefreshVerdict.REUSED:
            revoked = await tokens_db.revoke_family(session, family_id=stored.family_id)
            logger.warning(
                "rotated refresh token presented again; family revoked",
                extra={
                    "user_id": str(stored.user_id),
                    "family_id": str(stored.family_id),
                    "tokens_revoked": revoked,
                },
            )
        return verdict
    if user is None or user.id != stored.user_id or user.disabled:
        # A disabled account's tokens were revoked with it; this is a second guard.
        return RefreshVerdict.REVOKED
    await tokens_db.mark_rotated(session, token_id=stored.id)
    return await _issue(
        session,
        key=key,
        policy=policy,
        user=user,
        family_id=stored.family_id,
        family_started_at=stored.family_started_at,
    )


async def logout(*, session: AsyncSession, refresh_token: str) -> None:
    """Revoke the token's whole family (this sign-in). Unknown tokens are ignored."""
    token_hash = hash_refresh_token(refresh_token)
    await tokens_db.lock_family_of(session, token_hash)
    stored = await tokens_db.by_hash_for_update(session, token_hash)
    if stored is not None:
        await tokens_db.revoke_family(session, family_id=stored.family_id)


async def _issue(
    session: AsyncSession,
    *,
    key: SigningKey,
    policy: TokenPolicy,
    user: User,
    family_id: uuid.UUID,
    family_started_at: datetime,
) -> IssuedTokens:
    now = datetime.now(UTC)
    refresh_token = new_refresh_token()
    await tokens_db.add(
        session,
        token_hash=hash_refresh_token(refresh_token),
        family_id=family_id,
        user_id=user.id,
        family_started_at=family_started_at,
        expires_at=refresh_expiry(
            now=now,
            idle=policy.refresh_lifetime,
            family_started_at=family_started_at,
            family_max_age=policy.family_lifetime,
        ),
    )
    claims = access_token_claims(
        user_id=user.id,
        role=user.role.value,
        issuer=policy.issuer,
        audience=policy.audience,
        issued_at=now,
        lifetime=policy.access_lifetime,
        token_id=str(uuid.uuid4()),
    )
    return IssuedTokens(
        access_token=key.sign(claims),
        refresh_token=refresh_token,
        expires_in=int(policy.access_lifetime.total_seconds()),
    )
