"""identity's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_identity.config import Settings
from edvent_identity.db import keys as keys_db
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import tokens as tokens_db
from edvent_identity.domain.throttle import ThrottleRule
from edvent_identity.security.keys import load_signing_key
from edvent_identity.security.passwords import Passwords
from edvent_identity.services.auth import LoginThrottle, TokenPolicy
from edvent_identity.services.keys import KeyRing
from edvent_platform.auth import JwksCache, TokenVerifier
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.identity")

# Expired refresh tokens are kept a while so a late reuse is still recognised as such.
REFRESH_TOKEN_KEEP = timedelta(days=7)


def passwords_from(settings: Settings) -> Passwords:
    return Passwords(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        max_threads=settings.password_hashing_threads,
    )


def key_retention(settings: Settings) -> timedelta:
    """How long a retired key stays published: until every token it signed expired."""
    return timedelta(seconds=settings.access_token_ttl_seconds + 2 * settings.jwt_leeway_seconds)


def keyring_from(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> KeyRing:
    pem = settings.configured_signing_key_pem()
    passphrase = settings.signing_key_passphrase_bytes()
    return KeyRing(
        sessions=sessions,
        configured=load_signing_key(pem, passphrase=passphrase) if pem is not None else None,
        passphrase=passphrase,
        algorithm=settings.signing_key_algorithm,
        reload_seconds=settings.signing_key_reload_seconds,
        retention=key_retention(settings),
    )


@dataclass
class Identity:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    passwords: Passwords
    keys: KeyRing
    policy: TokenPolicy
    throttle: LoginThrottle
    verifier: TokenVerifier
    _maintenance: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Identity:
        keys = keyring_from(settings, sessions)
        window = timedelta(seconds=settings.login_failure_window_seconds)
        return cls(
            settings=settings,
            sessions=sessions,
            passwords=passwords_from(settings),
            keys=keys,
            policy=TokenPolicy(
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                access_lifetime=timedelta(seconds=settings.access_token_ttl_seconds),
                refresh_lifetime=timedelta(seconds=settings.refresh_token_ttl_seconds),
            ),
            throttle=LoginThrottle(
                per_email=ThrottleRule(settings.login_max_failures_per_email, window),
                per_client=ThrottleRule(settings.login_max_failures_per_client, window),
            ),
            # identity verifies its own tokens against its key set directly, no HTTP.
            verifier=TokenVerifier(
                keys=JwksCache(
                    keys.jwks,
                    ttl=max(settings.signing_key_reload_seconds, 1.0),
                    # A cheap local query, but still not one per made-up key id.
                    min_refetch=0.5,
                ),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                leeway=settings.jwt_leeway_seconds,
            ),
        )

    async def start(self) -> None:
        await self.keys.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="identity-maintenance")

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        self.passwords.close()

    async def prune(self) -> None:
        """Forget what no rule needs any more: old login failures, long-expired refresh
        tokens, private halves of keys that left the JWKS."""
        async with transaction(self.sessions) as session:
            await throttle_db.prune(session, older_than=self.throttle.per_email.window)
            await tokens_db.prune(session, expired_before=REFRESH_TOKEN_KEEP)
            await keys_db.forget_retired_private_keys(session, retention=self.keys.retention)

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.settings.maintenance_interval_seconds)
            try:
                await self.prune()
            except Exception:
                logger.exception("identity maintenance failed")
