"""Queries on `login_failures`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import LoginFailure


async def lock(session: AsyncSession, keys: list[tuple[str, str]]) -> None:
    """Serialise check-and-record per key across instances, until the transaction ends."""
    for scope, subject in sorted(keys):  # one order everywhere, so no deadlocks
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"identity.login.{scope}:{subject}"},
        )


async def now(session: AsyncSession) -> datetime:
    value = await session.scalar(select(func.now()))
    assert isinstance(value, datetime)
    return value


async def nth_latest_failure(
    session: AsyncSession, *, scope: str, subject: str, n: int, window: timedelta
) -> datetime | None:
    """The n-th most recent failure inside the window, if there are that many."""
    statement = (
        select(LoginFailure.failed_at)
        .where(
            LoginFailure.scope == scope,
            LoginFailure.subject == subject,
            LoginFailure.failed_at > func.now() - window,
        )
        .order_by(LoginFailure.failed_at.desc())
        .offset(n - 1)
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


async def record(session: AsyncSession, *, scope: str, subject: str) -> int:
    statement = insert(LoginFailure).values(scope=scope, subject=subject).returning(LoginFailure.id)
    return int((await session.execute(statement)).scalar_one())


async def forget(session: AsyncSession, failure_id: int) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.id == failure_id))


async def clear(session: AsyncSession, *, scope: str, subject: str) -> None:
    await session.execute(
        delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.subject == subject)
    )


async def prune(session: AsyncSession, *, older_than: timedelta) -> int:
    result = await session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at < func.now() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_account(session: AsyncSession, *, email: str) -> None:
    """Drop every throttling row that names this email (at its erasure)."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.scope.in_(("email", "account_client")),
            (LoginFailure.subject == email) | LoginFailure.subject.startswith(f"{email} "),
        )
    )


async def count_and_latest(
    session: AsyncSession, *, scope: str, subject: str, window: timedelta
) -> tuple[int, datetime | None]:
    """How many failures lie inside the window, and the latest of them."""
    row = (
        await session.execute(
            select(func.count(), func.max(LoginFailure.failed_at)).where(
                LoginFailure.scope == scope,
                LoginFailure.subject == subject,
                LoginFailure.failed_at > func.now() - window,
            )
        )
    ).one()
    return int(row[0]), row[1]
