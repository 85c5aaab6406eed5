"""The signing key an instance uses and the key set identity publishes.

Exactly one row of `signing_keys` is active (`retired_at IS NULL`). Without
configuration the active key is generated on first start and stored, encrypted with
IDENTITY_SIGNING_KEY_PASSPHRASE (required in production); `rotate` retires it and
activates a new one. Retired keys stay in the JWKS for the access-token lifetime
plus the reload interval plus leeway: an instance that has not reloaded yet may sign
with the old key that long after the rotation. A configured key
(IDENTITY_SIGNING_KEY_PEM / _FILE) wins: it is registered as the active key with
its public half only, and its private half never leaves the configuration.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_identity.adapters.signing_keys import (
    Algorithm,
    SigningKey,
    generate_signing_key,
    is_encrypted,
    load_signing_key,
)
from edvent_identity.db import keys as keys_db
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.identity.keys")


async def _store(session: AsyncSession, key: SigningKey, *, private_pem: str | None) -> None:
    await keys_db.add(
        session,
        kid=key.kid,
        algorithm=key.algorithm,
        private_key_pem=private_pem,
        public_jwk=key.public_jwk,
    )


async def activate_configured(*, session: AsyncSession, key: SigningKey) -> None:
    """Make a configured key the active one (publishing it), retiring any other."""
    await keys_db.lock(session)
    active = await keys_db.active(session)
    if active is not None and active.kid == key.kid:
        return
    await keys_db.retire_active(session)
    if await keys_db.by_kid(session, key.kid) is None:
        await _store(session, key, private_pem=None)
    else:
        await keys_db.reactivate(session, key.kid)
    logger.info("configured signing key activated", extra={"kid": key.kid})


async def ensure_generated(
    *, session: AsyncSession, passphrase: bytes | None, algorithm: Algorithm
) -> SigningKey:
    """The active stored key; generated first if there is none this instance can use.

    A key stored unencrypted before a passphrase was configured is encrypted now.
    """
    await keys_db.lock(session)
    active = await keys_db.active(session)
    if active is not None and active.private_key_pem is not None:
        if passphrase and not is_encrypted(active.private_key_pem):
            key = load_signing_key(active.private_key_pem)
            await keys_db.replace_private_key(
                session, kid=key.kid, private_key_pem=key.private_pem(passphrase)
            )
            logger.info("stored signing key encrypted", extra={"kid": key.kid})
            return key
        return load_signing_key(active.private_key_pem, passphrase=passphrase)
    # None yet, or the active one came from configuration that is gone now.
    await keys_db.retire_active(session)
    key = generate_signing_key(algorithm)
    await _store(session, key, private_pem=key.private_pem(passphrase))
    logger.info("signing key generated", extra={"kid": key.kid})
    return key


async def rotate(
    *, session: AsyncSession, passphrase: bytes | None, algorithm: Algorithm
) -> tuple[str | None, SigningKey]:
    """Retire the active key and activate a new one; returns (old kid, new key)."""
    await keys_db.lock(session)
    active = await keys_db.active(session)
    await keys_db.retire_active(session)
    key = generate_signing_key(algorithm)
    await _store(session, key, private_pem=key.private_pem(passphrase))
    return (active.kid if active else None), key


async def published_keys(*, session: AsyncSession, retention: timedelta) -> dict[str, Any]:
    """The JWK Set, read from the database so every instance publishes the same."""
    return {"keys": await keys_db.published(session, retention=retention)}


class KeyRing:
    """What one instance signs with, reloaded now and then to follow rotations.

    Background upkeep, not a request's work: it opens its own short transactions.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        configured: SigningKey | None,
        passphrase: bytes | None,
        algorithm: Algorithm,
        reload_seconds: float,
        retention: timedelta,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._configured = configured
        self._passphrase = passphrase
        self._algorithm = algorithm
        self._reload_seconds = reload_seconds
        self.retention = retention
        self._clock = clock
        self._current: SigningKey | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._configured is not None:
            async with transaction(self._sessions) as session:
                await activate_configured(session=session, key=self._configured)
        else:
            await self._reload()

    async def signing_key(self) -> SigningKey:
        if self._configured is not None:
            return self._configured
        if self._current is None or self._clock() - self._loaded_at >= self._reload_seconds:
            async with self._lock:
                if self._current is None or self._clock() - self._loaded_at >= self._reload_seconds:
                    await self._reload()
        assert self._current is not None
        return self._current

    async def jwks(self) -> dict[str, Any]:
        """The published key set, for identity's own token verifier."""
        async with transaction(self._sessions) as session:
            return await published_keys(session=session, retention=self.retention)

    async def _reload(self) -> None:
        async with transaction(self._sessions) as session:
            key = await ensure_generated(
                session=session, passphrase=self._passphrase, algorithm=self._algorithm
            )
        if self._current is None or key.kid != self._current.kid:
            logger.info("signing with key %s", key.kid)
        self._current, self._loaded_at = key, self._clock()
