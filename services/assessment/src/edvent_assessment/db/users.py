"""The users reference table. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import User


async def insert_if_missing(session: AsyncSession, *, user_id: UUID, role: str) -> None:
    """From a valid token: the user exists; events fill in the rest later."""
    await session.execute(
        insert(User).values(id=user_id, role=role).on_conflict_do_nothing(index_elements=[User.id])
    )


async def upsert_registered(
    session: AsyncSession, *, user_id: UUID, role: str, email: str, full_name: str | None
) -> None:
    statement = insert(User).values(id=user_id, role=role, email=email, full_name=full_name)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[User.id],
            # The role stays: a row made from a token may hold a newer one than the
            # registration's, and role changes come as their own events.
            set_={
                "email": statement.excluded.email,
                "full_name": statement.excluded.full_name,
                "updated_at": func.now(),
            },
        )
    )


async def apply_role_change(
    session: AsyncSession, *, user_id: UUID, role: str, changed_at: datetime
) -> None:
    statement = insert(User).values(id=user_id, role=role, role_changed_at=changed_at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[User.id],
            set_={"role": role, "role_changed_at": changed_at, "updated_at": func.now()},
            # Never let an older change win over a newer one.
            where=or_(User.role_changed_at.is_(None), User.role_changed_at <= changed_at),
        )
    )


async def known_role(session: AsyncSession, *, user_id: UUID) -> tuple[str, datetime | None] | None:
    """The role identity's events last gave the user, and when it changed (None: never)."""
    row = (
        await session.execute(select(User.role, User.role_changed_at).where(User.id == user_id))
    ).first()
    return None if row is None else (row.role, row.role_changed_at)
