"""Queries on `users`, the reference table of identity's users. Callers own the transaction."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db.tables import User


async def by_id(session: AsyncSession, user_id: UUID, *, for_share: bool = False) -> User | None:
    statement = select(User).where(User.id == user_id)
    if for_share:
        # Held until commit: an erasure or a role change of this user waits for us.
        statement = statement.with_for_update(read=True)
    return (await session.scalars(statement)).one_or_none()
