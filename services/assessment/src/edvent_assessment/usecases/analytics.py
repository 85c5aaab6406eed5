"""Exam analytics: one document per exam, updated from attempt.completed events."""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import analytics as analytics_db
from edvent_assessment.db import attempts as attempts_db
from edvent_assessment.domain import access, analytics, sheets
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.usecases import exams as exams_usecase
from edvent_events.catalog.assessment import AttemptCompleted

logger = logging.getLogger("edvent.assessment.analytics")


async def record_attempt(*, session: AsyncSession, event: AttemptCompleted) -> None:
    """Count one closed attempt. Runs in the consumer's inbox transaction, so a
    redelivered event (same id) never counts twice. Per-question results come from
    the attempt's own answer sheet, which never changes once closed."""
    attempt = await attempts_db.by_id(session, event.attempt_id)
    if attempt is None:
        logger.warning("attempt %s of an AttemptCompleted is not here; skipped", event.attempt_id)
        return
    document = analytics.load(await analytics_db.locked_document(session, attempt.exam_id))
    document = analytics.add_attempt(
        document,
        status=event.status,
        score=event.score,
        passed=event.passed,
        items=sheets.load(attempt.answer_sheet),
    )
    await analytics_db.store(
        session, exam_id=attempt.exam_id, document=document.model_dump(mode="json")
    )


async def exam_analytics(
    *, session: AsyncSession, actor: Actor, exam_id: UUID
) -> analytics.Summary:
    view = await exams_usecase.visible_exam(session=session, actor=actor, exam_id=exam_id)
    access.check_exam_manageable(actor, view.facts)
    document = analytics.load(await analytics_db.document(session, exam_id))
    summary = analytics.summarise(
        document,
        question_ids=[q.id for q in view.questions],
        adaptive=parse_config(view.exam.config).mode == "adaptive",
    )
    return summary.model_copy(
        update={
            "questions": [
                rate.model_copy(
                    update={
                        "difficulty": question.difficulty,
                        "irt_discrimination": question.discrimination,
                        "calibrated_difficulty": question.calibrated_difficulty,
                        "calibrated_discrimination": question.calibrated_discrimination,
                        "calibration_sample_size": question.calibration_sample_size,
                    }
                )
                for rate, question in zip(summary.questions, view.questions, strict=True)
            ]
        }
    )
