"""Registration, login, refresh and logout."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_events.outbox import add_event
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import tokens as tokens_db
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.errors import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottled,
)
from edvent_identity.domain.throttle import ThrottleRule, retry_after
from edvent_identity.domain.tokens import (
    RefreshTokenState,
    RefreshVerdict,
    access_token_claims,
    hash_refresh_token,
    judge_refresh,
    new_refresh_token,
)
from edvent_identity.domain.users import (
    Role,
    normalize_email,
    normalize_password,
    validate_email,
    validate_full_name,
    validate_password,
)
from edvent_identity.security.keys import SigningKey
from edvent_identity.security.passwords import Passwords
from edvent_identity.services.events import registered_event
from edvent_identity.services.keys import KeyRing
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.identity.auth")


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    per_email: ThrottleRule
    per_client: ThrottleRule


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def register(
    *,
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    email: str,
    password: str,
    full_name: str,
) -> User:
    email, full_name = validate_email(email), validate_full_name(full_name)
    password_hash = await passwords.hash(validate_password(password))
    async with transaction(sessions) as session:
        # ON CONFLICT, not a look-up first: two registrations racing for one email
        # meet at the unique constraint and exactly one wins.
        user = await users_db.insert_if_new(
            session,
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=Role.STUDENT,
        )
        if user is None:
            raise EmailAlreadyRegistered(email)
        await add_event(session, registered_event(user))
    return user


async def login(
    *,
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    keys: KeyRing,
    policy: TokenPolicy,
    throttle: LoginThrottle,
    email: str,
    password: str,
    client_address: str,
) -> IssuedTokens:
    email, password = normalize_email(email), normalize_password(password)
    limits = (("email", email, throttle.per_email), ("client", client_address, throttle.per_client))
    async with transaction(sessions) as session:
        await throttle_db.lock(session, [(scope, subject) for scope, subject, _ in limits])
        now = await throttle_db.now(session)
        waits = [
            wait
            for scope, subject, rule in limits
            if (
                wait := retry_after(
                    rule,
                    nth_latest_failure=await throttle_db.nth_latest_failure(
                        session,
                        scope=scope,
                        subject=subject,
                        n=rule.max_failures,
                        window=rule.window,
                    ),
                    now=now,
                )
            )
            is not None
        ]
        if waits:
            raise LoginThrottled(retry_after=max(waits))
        # Counted as failed until the password is checked, so guesses sent in parallel
        # are limited as strictly as guesses sent one after another.
        await throttle_db.record(session, scope="email", subject=email)
        client_failure = await throttle_db.record(session, scope="client", subject=client_address)
        user = await users_db.by_email(session, email)

    # Hashing happens outside any transaction: no connection waits on Argon2.
    if user is None:
        await passwords.verify_dummy(password)
        raise InvalidCredentials
    if not await passwords.verify(user.password_hash, password):
        raise InvalidCredentials
    new_hash = (
        await passwords.hash(password) if passwords.needs_rehash(user.password_hash) else None
    )
    key = await keys.signing_key()

    async with transaction(sessions) as session:
        await throttle_db.clear(session, scope="email", subject=email)
        await throttle_db.forget(session, client_failure)
        if new_hash is not None:
            await users_db.replace_password_hash(
                session, user_id=user.id, old_hash=user.password_hash, new_hash=new_hash
            )
        current = await users_db.by_id(session, user.id)
        assert current is not None  # users are never deleted
        return await _issue(session, key=key, policy=policy, user=current, family_id=uuid.uuid4())


async def refresh(
    *,
    sessions: async_sessionmaker[AsyncSession],
    keys: KeyRing,
    policy: TokenPolicy,
    refresh_token: str,
) -> IssuedTokens:
    key = await keys.signing_key()
    issued: IssuedTokens | None = None
    token_hash = hash_refresh_token(refresh_token)
    async with transaction(sessions) as session:
        await tokens_db.lock_family_of(session, token_hash)
        stored = await tokens_db.by_hash_for_update(session, token_hash)
        verdict = judge_refresh(
            None
            if stored is None
            else RefreshTokenState(
                expires_at=stored.expires_at,
                rotated_at=stored.rotated_at,
                revoked_at=stored.revoked_at,
            ),
            now=datetime.now(UTC),
        )
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
        elif stored is not None and verdict is RefreshVerdict.VALID:
            await tokens_db.mark_rotated(session, token_id=stored.id)
            user = await users_db.by_id(session, stored.user_id)
            assert user is not None  # the foreign key cascades deletions
            issued = await _issue(
                session, key=key, policy=policy, user=user, family_id=stored.family_id
            )
    # Raised after the commit: the revocation of a reused family must stick.
    if issued is None:
        raise InvalidRefreshToken(verdict.value)
    return issued


async def logout(*, sessions: async_sessionmaker[AsyncSession], refresh_token: str) -> None:
    """Revoke the token's whole family (this sign-in). Unknown tokens are ignored."""
    token_hash = hash_refresh_token(refresh_token)
    async with transaction(sessions) as session:
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
) -> IssuedTokens:
    now = datetime.now(UTC)
    refresh_token = new_refresh_token()
    await tokens_db.add(
        session,
        token_hash=hash_refresh_token(refresh_token),
        family_id=family_id,
        user_id=user.id,
        expires_at=now + policy.refresh_lifetime,
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
