"""Queries on `email_outbox`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import EmailMessage
from edvent_identity.domain.emails import EmailContent


async def add(
    session: AsyncSession, *, user_id: UUID | None, to_address: str, content: EmailContent
) -> UUID:
    statement = (
        insert(EmailMessage)
        .values(
            user_id=user_id,
            kind=content.kind.value,
            to_address=to_address,
            subject=content.subject,
            text_body=content.text,
            html_body=content.html,
        )
        .returning(EmailMessage.id)
    )
    return (await session.execute(statement)).scalar_one()


async def claim_due(session: AsyncSession, *, limit: int, hold: timedelta) -> list[EmailMessage]:
    """Due messages, each pushed `hold` into the future and counted as an attempt, so
    no other sender takes it while this one delivers; rows another sender is claiming
    right now are skipped."""
    due = (
        select(EmailMessage.id)
        .where(
            EmailMessage.sent_at.is_(None),
            EmailMessage.failed_at.is_(None),
            EmailMessage.next_attempt_at <= func.now(),
        )
        .order_by(EmailMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(EmailMessage)
        .where(EmailMessage.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=func.now() + hold, attempts=EmailMessage.attempts + 1)
        .returning(EmailMessage)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(statement))


async def mark_sent(session: AsyncSession, *, message_id: UUID) -> None:
    # The bodies go: a link in them may carry a token that still works.
    await session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id)
        .values(sent_at=func.now(), text_body=None, html_body=None, last_error=None)
    )


async def mark_failed(
    session: AsyncSession, *, message_id: UUID, error: str, retry_at: datetime | None
) -> None:
    """A failed attempt: try again at `retry_at`, or give up (None)."""
    values: dict[str, object] = {"last_error": error[:1000]}
    if retry_at is None:
        values |= {"failed_at": func.now(), "text_body": None, "html_body": None}
    else:
        values["next_attempt_at"] = retry_at
    await session.execute(update(EmailMessage).where(EmailMessage.id == message_id).values(values))


async def prune(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forget messages sent or given up long ago."""
    result = await session.execute(
        delete(EmailMessage).where(
            or_(EmailMessage.sent_at.is_not(None), EmailMessage.failed_at.is_not(None)),
            EmailMessage.created_at < func.now() - older_than,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_user(session: AsyncSession, *, user_id: UUID) -> int:
    """Every message to or about the user, sent or not (for erasure: the rows hold the
    address, and unsent ones a link)."""
    result = await session.execute(delete(EmailMessage).where(EmailMessage.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
