"""The per-user data keys (crypto-shredding of personal fields in events)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import UserDataKey


async def add(session: AsyncSession, *, user_id: UUID, key: bytes) -> None:
    await session.execute(insert(UserDataKey).values(user_id=user_id, key=key))


async def delete_for(session: AsyncSession, *, user_id: UUID) -> bool:
    """Forget the user's key; whether there was one (accounts older than keys have none)."""
    result = await session.execute(delete(UserDataKey).where(UserDataKey.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))
