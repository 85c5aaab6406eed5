"""Waiting statements to the LRS, in batches, none lost and none twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_learning_records.adapters.lrs import LrsClient, Outcome
from edvent_learning_records.db import statements as statements_db

logger = logging.getLogger("edvent.learning_records.sending")

SENT = Counter(
    "learning_records_statements_sent_total",
    "Statements the LRS took, by how: batch, one (after a batch conflict), known (an id "
    "the LRS already held with other content, counted as done)",
    ["how"],
)
FAILED = Counter("learning_records_send_failures_total", "Batches the LRS did not take")


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta
    max: timedelta

    def pause(self, attempts: int) -> timedelta:
        seconds = self.base.total_seconds() * 2.0 ** min(attempts, 20)
        return timedelta(seconds=min(seconds, self.max.total_seconds()))


async def send_due(
    *,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    lrs: LrsClient,
    batch_size: int,
    retry: RetryPolicy,
) -> int:
    """Send one batch; returns how many statements the LRS took (0: nothing was due,
    or the LRS did not answer).

    The rows stay locked while the LRS is asked (at most its timeout): an erasure
    waits for the answer, so it sees each statement as sent (and voids it) or as
    waiting (and drops it), never neither. A crash before the commit only resends
    statements the LRS already holds, which it answers as known.
    """
    async with transaction() as session:
        rows = await statements_db.claim_due(session, limit=batch_size)
        if not rows:
            return 0
        answer = await lrs.post([row.body for row in rows])
        if answer.outcome is Outcome.STORED:
            await statements_db.mark_sent(session, ids=[row.id for row in rows])
            SENT.labels("batch").inc(len(rows))
            return len(rows)
        if answer.outcome is Outcome.FAILED:
            FAILED.inc()
            logger.warning("the LRS did not take %d statements: %s", len(rows), answer.detail)
            worst = max(row.attempts for row in rows)
            await statements_db.mark_failed(
                session,
                ids=[row.id for row in rows],
                error=answer.detail,
                retry_in=retry.pause(worst),
            )
            return 0
        # 409: one of them is known with other content. One by one, so the rest land.
        sent = []
        for row in rows:
            one = await lrs.put(row.body)
            if one.outcome is Outcome.FAILED:
                await statements_db.mark_failed(
                    session, ids=[row.id], error=one.detail, retry_in=retry.pause(row.attempts)
                )
                continue
            if one.outcome is Outcome.CONFLICT:
                logger.warning("the LRS holds %s with other content; kept its copy", row.id)
                SENT.labels("known").inc()
            else:
                SENT.labels("one").inc()
            sent.append(row.id)
        await statements_db.mark_sent(session, ids=sent)
        return len(sent)
