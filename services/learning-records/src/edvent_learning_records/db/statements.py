"""The statements table: what waits for the LRS and what it took. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_learning_records.db.tables import ErasedUser
from edvent_learning_records.db.tables import Statement as Row
from edvent_learning_records.domain.statements import Statement


async def add(
    session: AsyncSession, *, statements: Sequence[Statement], event_time: datetime
) -> int:
    """Queue statements; a known id is left as it is (a replayed event). Returns how
    many were new."""
    if not statements:
        return 0
    result = await session.execute(
        pg_insert(Row)
        .values(
            [
                {
                    "id": s.id,
                    "user_id": s.user_id,
                    "verb": s.verb,
                    "body": s.body,
                    "event_time": event_time,
                }
                for s in statements
            ]
        )
        .on_conflict_do_nothing(index_elements=[Row.id])
        .returning(Row.id)
    )
    return len(result.all())


async def claim_due(session: AsyncSession, *, limit: int) -> list[Row]:
    """Waiting rows due now, oldest first, locked until the caller's transaction ends;
    rows another sender holds are skipped."""
    result = await session.execute(
        select(Row)
        .where(Row.sent_at.is_(None), Row.next_attempt_at <= func.now())
        .order_by(Row.next_attempt_at, Row.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def mark_sent(session: AsyncSession, *, ids: Sequence[UUID]) -> None:
    if ids:
        await session.execute(
            update(Row).where(Row.id.in_(ids)).values(sent_at=func.now(), last_error=None)
        )


async def mark_failed(
    session: AsyncSession, *, ids: Sequence[UUID], error: str, retry_in: timedelta
) -> None:
    if ids:
        await session.execute(
            update(Row)
            .where(Row.id.in_(ids))
            .values(
                attempts=Row.attempts + 1,
                next_attempt_at=func.now() + retry_in,
                last_error=error[:2000],
            )
        )


async def is_erased(session: AsyncSession, *, user_id: UUID) -> bool:
    return await session.get(ErasedUser, user_id) is not None


async def record_erasure(session: AsyncSession, *, user_id: UUID, at: datetime) -> bool:
    """True when the user was not known as erased before."""
    result = await session.execute(
        pg_insert(ErasedUser)
        .values(user_id=user_id, erased_at=at)
        .on_conflict_do_nothing(index_elements=[ErasedUser.user_id])
        .returning(ErasedUser.user_id)
    )
    return result.first() is not None


async def withdraw_for_user(session: AsyncSession, *, user_id: UUID) -> list[UUID]:
    """At erasure: drop the user's statements that never reached the LRS and return
    the ids of those that did (to void). Waits for a sender holding any of them, so a
    statement in flight is counted as sent, never lost between the two."""
    rows = (
        await session.execute(
            select(Row.id, Row.sent_at)
            .where(Row.user_id == user_id)
            .order_by(Row.seq)
            .with_for_update()
        )
    ).all()
    waiting = [row.id for row in rows if row.sent_at is None]
    if waiting:
        await session.execute(delete(Row).where(Row.id.in_(waiting)))
    return [row.id for row in rows if row.sent_at is not None]


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many statements wait, and the event time of the oldest."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(Row.event_time)).where(Row.sent_at.is_(None))
        )
    ).one()
    return int(count), oldest
