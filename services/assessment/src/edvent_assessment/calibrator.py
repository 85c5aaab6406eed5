"""The periodic calibration job (off unless ASSESSMENT_CALIBRATION_INTERVAL_SECONDS > 0).

Every interval it recalibrates each published adaptive exam, one transaction per exam,
as `edvent-assessment calibrate --exam ID` does. Instances running it side by side
compute the same values from the same attempts; the work is repeated, not corrupted.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.periodic import Periodic
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


class Calibrator(Periodic):
    name = "assessment-calibrator"
    # Calibration reads every completed attempt: a restart does not set it off.
    wait_first = True

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float, min_responses: int
    ) -> None:
        super().__init__(interval=interval)
        self.sessions = sessions
        self.min_responses = min_responses

    async def run_once(self) -> None:
        count = await calibrate_all(self.sessions, min_responses=self.min_responses)
        logger.info("calibrated %d adaptive exams", count)
