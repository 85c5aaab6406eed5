"""The expiry sweeper: a job on the service's runner that closes attempts nobody submitted.

Every `sweep_interval_seconds` it closes, in batches of `sweep_batch_size` (one
transaction each), the open attempts past deadline + grace. Rows are taken with
`FOR UPDATE SKIP LOCKED`, so several instances sweep side by side and a submit in
flight is never waited for; the row lock and the status check make each attempt
close, and announce itself, once. One replica sweeps at a time all the same (its
advisory lock), so two never race through the same batches.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.assessment.sweeper")

EXPIRED = Counter("assessment_attempts_expired_total", "Attempts the sweeper closed as expired")


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    *,
    grace: timedelta,
    batch: int,
    stopping: asyncio.Event | None = None,
) -> int:
    """One pass: close every overdue attempt (until `stopping` is set); how many."""
    total = 0
    while stopping is None or not stopping.is_set():
        async with transaction(sessions) as session:
            closed = await attempts_usecase.expire_overdue(
                session=session, grace=grace, limit=batch
            )
        total += closed
        EXPIRED.inc(closed)
        if closed < batch:
            break
    return total
