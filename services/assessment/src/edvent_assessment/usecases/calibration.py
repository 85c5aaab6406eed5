"""Calibrating an exam's questions from the answers of its completed attempts.

The estimates are stored beside the author's values with their sample size, and the
exam's `calibrated_at` moves, so every instance's item bank cache rebuilds the bank at
the next answer (selection then uses estimates resting on enough answers).
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.tables import Attempt, Exam, Question
from edvent_assessment.domain import sheets
from edvent_assessment.domain.adaptive import AdaptiveConfig, Item, Response
from edvent_assessment.domain.calibration import Calibration, calibrate
from edvent_assessment.domain.errors import ExamNotFound
from edvent_assessment.domain.exams import parse_config

logger = logging.getLogger("edvent.assessment.calibration")


async def responses_of(session: AsyncSession, exam_id: UUID) -> list[list[Response]]:
    """Each completed attempt's graded answers (a fixed attempt's left-out questions are
    wrong, as in its score; an adaptive attempt holds only the questions it served)."""
    statement = select(Attempt.answer_sheet).where(
        Attempt.exam_id == exam_id, Attempt.status == "completed"
    )
    return [
        [
            Response(str(item.question_id), bool(item.correct))
            for item in sheets.load(document)
            if item.correct is not None
        ]
        for document in await session.scalars(statement)
    ]


async def calibrate_exam(
    *, session: AsyncSession, exam_id: UUID, min_responses: int
) -> Calibration:
    exam = await session.get(Exam, exam_id)
    if exam is None:
        raise ExamNotFound
    config = parse_config(exam.config)
    model = config.model if isinstance(config, AdaptiveConfig) else "rasch"
    questions = await exams_db.questions(session, exam_id)
    items = [Item(str(q.id), q.difficulty, q.discrimination or 1.0) for q in questions]
    # mirt's EM is seconds of CPU work: off the event loop, so a serving instance that
    # runs the periodic job keeps answering requests meanwhile.
    responses = await responses_of(session, exam_id)
    result = await asyncio.to_thread(
        calibrate,
        items=items,
        attempts=responses,
        model=model,
        min_responses=min_responses,
    )
    for item in result.items:
        if item.calibrated:
            await session.execute(
                update(Question)
                .where(Question.id == UUID(item.item_id))
                .values(
                    calibrated_difficulty=item.difficulty,
                    calibrated_discrimination=item.discrimination,
                    calibration_sample_size=item.sample_size,
                )
            )
    await session.execute(
        update(Exam).where(Exam.id == exam_id).values(calibrated_at=func.clock_timestamp())
    )
    return result


async def adaptive_exam_ids(session: AsyncSession) -> list[UUID]:
    statement = select(Exam.id).where(
        Exam.status == "published", Exam.config["mode"].astext == "adaptive"
    )
    return list(await session.scalars(statement))
