"""Queries on `refresh_tokens`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import RefreshToken


async def add(
    session: AsyncSession,
    *,
    token_hash: bytes,
    family_id: UUID,
    user_id: UUID,
    family_started_at: datetime,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(RefreshToken).values(
            token_hash=token_hash,
            family_id=family_id,
            user_id=user_id,
            family_started_at=family_started_at,
            expires_at=expires_at,
        )
    )


async def owner_of(session: AsyncSession, token_hash: bytes) -> UUID | None:
    """The user a refresh token belongs to, unlocked (to lock the user first)."""
    return (
        await session.scalars(
            select(RefreshToken.user_id).where(RefreshToken.token_hash == token_hash)
        )
    ).one_or_none()


async def revoke_user(session: AsyncSession, *, user_id: UUID) -> int:
    """Every sign-in of the user. The caller holds the user's row lock, which refresh
    and login take too, so no successor token is being inserted meanwhile."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def lock_family_of(session: AsyncSession, token_hash: bytes) -> UUID | None:
    """Serialise everything that rotates or revokes this token's sign-in (its family),
    until the transaction ends; nothing if the token is unknown.

    Row locks alone are not enough: a logout revoking the family while a refresh of
    another of its tokens is in flight would not see the successor that refresh is
    inserting, which would then outlive the logout. Taken before any row lock, so it
    cannot deadlock with them. Returns the token's user.
    """
    found = (
        await session.execute(
            select(RefreshToken.family_id, RefreshToken.user_id).where(
                RefreshToken.token_hash == token_hash
            )
        )
    ).one_or_none()
    if found is None:
        return None
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"identity.refresh_family:{found.family_id}"},
    )
    user_id: UUID = found.user_id
    return user_id


async def by_hash_for_update(session: AsyncSession, token_hash: bytes) -> RefreshToken | None:
    """The token row, locked: a concurrent refresh of the same token waits here and
    then sees it rotated."""
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def mark_rotated(session: AsyncSession, *, token_id: UUID) -> None:
    await session.execute(
        update(RefreshToken).where(RefreshToken.id == token_id).values(rotated_at=func.now())
    )


async def revoke_family(session: AsyncSession, *, family_id: UUID) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune(session: AsyncSession, *, expired_before: timedelta) -> int:
    """Forget tokens that expired long ago (a reuse of one is then just 'unknown')."""
    result = await session.execute(
        delete(RefreshToken).where(RefreshToken.expires_at < func.now() - expired_before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
