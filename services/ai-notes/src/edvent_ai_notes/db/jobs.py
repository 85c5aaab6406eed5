"""note_jobs, rate_windows and token_usage: the statements of the LLM budget. Callers
own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.tables import note_jobs, rate_windows, token_usage


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    lesson_id: UUID
    reason: str
    attempts: int  # including this one


async def job_exists(session: AsyncSession, *, lesson_id: UUID) -> bool:
    found = await session.scalar(
        select(note_jobs.c.lesson_id).where(note_jobs.c.lesson_id == lesson_id).with_for_update()
    )
    return found is not None


async def add_job(
    session: AsyncSession,
    *,
    lesson_id: UUID,
    reason: str,
    requested_by: UUID | None = None,
    run_after: datetime | None = None,
) -> None:
    """One job per lesson: a second one changes only when the first may run."""
    values = {"lesson_id": lesson_id, "reason": reason, "requested_by": requested_by}
    if run_after is not None:
        values["run_after"] = run_after
    statement = pg_insert(note_jobs).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[note_jobs.c.lesson_id],
            set_={
                "reason": statement.excluded.reason,
                "run_after": statement.excluded.run_after,
                "attempts": 0,
            },
        )
    )


async def claim_job(session: AsyncSession, *, lease: timedelta) -> ClaimedJob | None:
    """The most overdue job no other worker holds, leased for `lease`: a worker that
    dies mid-run leaves it to be claimed again once the lease ends."""
    row = (
        await session.execute(
            select(note_jobs.c.lesson_id)
            .where(note_jobs.c.run_after <= func.now())
            .order_by(note_jobs.c.run_after)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if row is None:
        return None
    claimed = (
        await session.execute(
            update(note_jobs)
            .where(note_jobs.c.lesson_id == row.lesson_id)
            .values(run_after=func.now() + lease, attempts=note_jobs.c.attempts + 1)
            .returning(note_jobs.c.lesson_id, note_jobs.c.reason, note_jobs.c.attempts)
        )
    ).one()
    return ClaimedJob(lesson_id=claimed.lesson_id, reason=claimed.reason, attempts=claimed.attempts)


async def requested_by(session: AsyncSession, *, user_id: UUID) -> list[tuple[UUID, datetime]]:
    """(lesson, when) of the note runs the user asked for that still wait."""
    rows = await session.execute(
        select(note_jobs.c.lesson_id, note_jobs.c.requested_at)
        .where(note_jobs.c.requested_by == user_id)
        .order_by(note_jobs.c.requested_at)
    )
    return [(row.lesson_id, row.requested_at) for row in rows]


async def retry_job(session: AsyncSession, *, lesson_id: UUID, after: timedelta) -> None:
    await session.execute(
        update(note_jobs)
        .where(note_jobs.c.lesson_id == lesson_id)
        .values(run_after=func.now() + after)
    )


async def finish_job(session: AsyncSession, *, lesson_id: UUID) -> None:
    await session.execute(delete(note_jobs).where(note_jobs.c.lesson_id == lesson_id))


async def hit(session: AsyncSession, *, key: str, window: timedelta) -> tuple[int, datetime]:
    """Count one hit in `key`'s current fixed window: the hits so far (this one
    included) and when the window started. Atomic across replicas."""
    statement = pg_insert(rate_windows).values(key=key, window_start=func.now(), hits=1)
    expired = rate_windows.c.window_start <= func.now() - window
    row = (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[rate_windows.c.key],
                set_={
                    "window_start": case((expired, func.now()), else_=rate_windows.c.window_start),
                    "hits": case((expired, 1), else_=rate_windows.c.hits + 1),
                },
            ).returning(rate_windows.c.hits, rate_windows.c.window_start)
        )
    ).one()
    return int(row.hits), row.window_start


async def tokens_spent(session: AsyncSession, *, provider: str, day: date) -> int:
    spent = await session.scalar(
        select(token_usage.c.tokens).where(
            token_usage.c.provider == provider, token_usage.c.day == day
        )
    )
    return int(spent or 0)


async def spend_tokens(
    session: AsyncSession, *, provider: str, day: date, tokens: int, requests: int
) -> None:
    statement = pg_insert(token_usage).values(
        provider=provider, day=day, tokens=tokens, requests=requests
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[token_usage.c.provider, token_usage.c.day],
            set_={
                "tokens": token_usage.c.tokens + statement.excluded.tokens,
                "requests": token_usage.c.requests + statement.excluded.requests,
            },
        )
    )
