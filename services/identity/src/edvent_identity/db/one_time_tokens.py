"""Queries on `one_time_tokens`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import OneTimeToken
from edvent_identity.domain.accounts import TokenPurpose


async def add(
    session: AsyncSession,
    *,
    token_hash: bytes,
    user_id: UUID,
    purpose: TokenPurpose,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(OneTimeToken).values(
            token_hash=token_hash, user_id=user_id, purpose=purpose.value, expires_at=expires_at
        )
    )


async def by_hash(
    session: AsyncSession, *, token_hash: bytes, purpose: TokenPurpose, for_update: bool = False
) -> OneTimeToken | None:
    statement = select(OneTimeToken).where(
        OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose.value
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def use_all(session: AsyncSession, *, user_id: UUID, purpose: TokenPurpose) -> None:
    """Spend every open token of the user for `purpose` (the one used, and older ones)."""
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )


async def prune(session: AsyncSession, *, expired_before: timedelta) -> int:
    result = await session.execute(
        delete(OneTimeToken).where(OneTimeToken.expires_at < func.now() - expired_before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
