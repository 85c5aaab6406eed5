"""The expiry sweeper: a background loop that closes attempts nobody submitted.

Every `sweep_interval_seconds` it closes, in batches of `sweep_batch_size` (one
transaction each), the open attempts past deadline + grace. Rows are taken with
`FOR UPDATE SKIP LOCKED`, so several instances sweep side by side and a submit in
flight is never waited for; the row lock and the status check make each attempt
close, and announce itself, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.usecases import attempts as attempts_usecase
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.assessment.sweeper")

EXPIRED = Counter("assessment_attempts_expired_total", "Attempts the sweeper closed as expired")


async def sweep(sessions: async_sessionmaker[AsyncSession], *, grace: timedelta, batch: int) -> int:
    """One pass: close every overdue attempt; how many were closed."""
    total = 0
    while True:
        async with transaction(sessions) as session:
            closed = await attempts_usecase.expire_overdue(
                session=session, grace=grace, limit=batch
            )
        total += closed
        EXPIRED.inc(closed)
        if closed < batch:
            return total


class Sweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        grace: timedelta,
        batch: int,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.grace = grace
        self.batch = batch
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="assessment-sweeper")

    async def _run(self) -> None:
        while True:
            try:
                closed = await sweep(self.sessions, grace=self.grace, batch=self.batch)
                if closed:
                    logger.info("closed %d overdue attempts as expired", closed)
            except Exception:  # the database may be away; try again next round
                logger.exception("sweeping overdue attempts failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Cancelling rolls an unfinished batch back; the next run closes those attempts."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
