"""The periodic calibration job (off unless ASSESSMENT_CALIBRATION_INTERVAL_SECONDS > 0).

Every interval it recalibrates each published adaptive exam, one transaction per exam,
as `edvent-assessment calibrate --exam ID` does. It runs on one replica at a time (the
job runner's advisory lock): two would compute the same values from the same attempts,
so the work would be repeated, not corrupted, but it is seconds of CPU each.
"""

from __future__ import annotations

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
