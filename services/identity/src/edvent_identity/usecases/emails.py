"""The email outbox: messages written with the change that causes them, delivered by
the sender job.

Delivery is at least once with one Message-ID per row: a row is claimed (pushed past
the SMTP timeout) and committed before the send, so a crash before or during the send
loses nothing (the row is due again once the claim runs out) and a message is sent
twice only if the process dies between the server's acceptance and the commit of
`sent_at`, a window of one round trip, which the repeated Message-ID makes visible.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.adapters.smtp import Outgoing
from edvent_identity.db import emails as emails_db
from edvent_identity.db.tables import User
from edvent_identity.domain.emails import EmailContent, retry_delay_seconds

logger = logging.getLogger("edvent.identity.email")


async def enqueue(*, session: AsyncSession, user: User, content: EmailContent) -> UUID:
    """Write the message in the caller's transaction: it is sent iff that commits."""
    return await emails_db.add(session, user_id=user.id, to_address=user.email, content=content)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    batch_size: int
    claim: timedelta
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float


@dataclass(frozen=True, slots=True)
class Claimed:
    outgoing: Outgoing
    attempts: int


async def claim(*, session: AsyncSession, policy: DeliveryPolicy) -> list[Claimed]:
    rows = await emails_db.claim_due(session, limit=policy.batch_size, hold=policy.claim)
    return [
        Claimed(
            outgoing=Outgoing(
                id=row.id,
                to_address=row.to_address,
                subject=row.subject,
                text=row.text_body or "",
                html=row.html_body or "",
            ),
            attempts=row.attempts,
        )
        for row in rows
    ]


async def record_outcome(
    *, session: AsyncSession, claimed: Claimed, error: Exception | None, policy: DeliveryPolicy
) -> None:
    message_id = claimed.outgoing.id
    if error is None:
        await emails_db.mark_sent(session, message_id=message_id)
        return
    reason = f"{type(error).__name__}: {error}"
    if claimed.attempts >= policy.max_attempts:
        logger.error(
            "giving up on an email",
            extra={"email_id": str(message_id), "attempts": claimed.attempts, "error": reason},
        )
        await emails_db.mark_failed(session, message_id=message_id, error=reason, retry_at=None)
        return
    delay = retry_delay_seconds(
        attempts=claimed.attempts, base=policy.retry_base_seconds, cap=policy.retry_max_seconds
    )
    logger.warning(
        "email delivery failed; will retry",
        extra={"email_id": str(message_id), "attempts": claimed.attempts, "error": reason},
    )
    await emails_db.mark_failed(
        session,
        message_id=message_id,
        error=reason,
        retry_at=datetime.now(UTC) + timedelta(seconds=delay),
    )


Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def deliver_due(
    *,
    transaction: Transaction,
    send: Callable[[Outgoing], Awaitable[None]],
    policy: DeliveryPolicy,
) -> int:
    """One pass of the sender: claim what is due, send each (outside any transaction),
    record each outcome. The number of messages sent."""
    async with transaction() as session:
        batch = await claim(session=session, policy=policy)
    sent = 0
    for claimed in batch:
        error: Exception | None = None
        try:
            await send(claimed.outgoing)
        except Exception as exc:  # noqa: BLE001 - any failure is retried later
            error = exc
        async with transaction() as session:
            await record_outcome(session=session, claimed=claimed, error=error, policy=policy)
        sent += error is None
    return sent
