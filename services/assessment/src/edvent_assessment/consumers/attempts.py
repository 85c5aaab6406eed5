"""assessment.attempts (our own topic) → the exams' analytics documents."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.consumers import handlers
from edvent_assessment.usecases import analytics as analytics_usecase
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.envelope import Envelope


@handlers.on(AttemptCompleted)
async def on_attempt_completed(session: AsyncSession, envelope: Envelope[AttemptCompleted]) -> None:
    await analytics_usecase.record_attempt(session=session, event=envelope.data)
