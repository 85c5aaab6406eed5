"""The periodic calibration job (off unless ASSESSMENT_CALIBRATION_INTERVAL_SECONDS > 0).

Every interval it recalibrates each published adaptive exam, one transaction per exam,
as `edvent-assessment calibrate --exam ID` does. Instances running it side by side
compute the same values from the same attempts; the work is repeated, not corrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.usecases import calibration as calibration_usecase
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.assessment.calibrator")


async def calibrate_all(sessions: async_sessionmaker[AsyncSession], *, min_responses: int) -> int:
    async with transaction(sessions) as session:
        exam_ids = await calibration_usecase.adaptive_exam_ids(session)
    for exam_id in exam_ids:
        async with transaction(sessions) as session:
            await calibration_usecase.calibrate_exam(
                session=session, exam_id=exam_id, min_responses=min_responses
            )
    return len(exam_ids)


class Calibrator:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float, min_responses: int
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.min_responses = min_responses
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="assessment-calibrator")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            if self._stopping.is_set():
                break
            try:
                count = await calibrate_all(self.sessions, min_responses=self.min_responses)
                logger.info("calibrated %d adaptive exams", count)
            except Exception:  # the database may be away; try again next round
                logger.exception("calibrating adaptive exams failed")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
