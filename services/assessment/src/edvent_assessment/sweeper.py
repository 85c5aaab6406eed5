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


class Sweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        grace: timedelta,
        batch: int,
        stop_grace: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.grace = grace
        self.batch = batch
        self.stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="assessment-sweeper")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                closed = await sweep(
                    self.sessions, grace=self.grace, batch=self.batch, stopping=self._stopping
                )
                if closed:
                    logger.info("closed %d overdue attempts as expired", closed)
            except Exception:  # the database may be away; try again next round
                logger.exception("sweeping overdue attempts failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

    async def stop(self) -> None:
        """Let the batch in flight commit (cancelling a task inside a transaction can
        leave its connection stranded); cancel only past `stop_grace`, which rolls the
        batch back for the next run to close."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
