"""Forgetting what no rule needs any more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db import emails as emails_db
from edvent_identity.db import keys as keys_db
from edvent_identity.db import one_time_tokens as one_time_db
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import tokens as tokens_db

# Expired refresh tokens are kept a while so a late reuse is still recognised as such.
REFRESH_TOKEN_KEEP = timedelta(days=7)


async def prune(
    *,
    session: AsyncSession,
    throttle_window: timedelta,
    key_retention: timedelta,
    email_retention: timedelta = timedelta(days=7),
) -> None:
    """Old login failures and registration attempts, long-expired refresh tokens, and
    private halves of keys that left the JWKS."""
    await throttle_db.prune(session, older_than=throttle_window)
    await tokens_db.prune(session, expired_before=REFRESH_TOKEN_KEEP)
    await keys_db.forget_retired_private_keys(session, retention=key_retention)
    await one_time_db.prune(session, expired_before=REFRESH_TOKEN_KEEP)
    await emails_db.prune(session, older_than=email_retention)
