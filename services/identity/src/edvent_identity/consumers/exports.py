"""<service>.user-exports → the sealed parts of data exports, in the inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.ai_notes import AiNotesUserDataExported
from edvent_events.catalog.assessment import AssessmentUserDataExported
from edvent_events.catalog.content import ContentUserDataExported
from edvent_events.envelope import Envelope
from edvent_identity.consumers import handlers
from edvent_identity.usecases import exports


@handlers.on(ContentUserDataExported)
async def on_content_part(
    session: AsyncSession, envelope: Envelope[ContentUserDataExported]
) -> None:
    await exports.record_part(session=session, service="content", event=envelope.data)


@handlers.on(AssessmentUserDataExported)
async def on_assessment_part(
    session: AsyncSession, envelope: Envelope[AssessmentUserDataExported]
) -> None:
    await exports.record_part(session=session, service="assessment", event=envelope.data)


@handlers.on(AiNotesUserDataExported)
async def on_ai_notes_part(
    session: AsyncSession, envelope: Envelope[AiNotesUserDataExported]
) -> None:
    await exports.record_part(session=session, service="ai-notes", event=envelope.data)
