"""A user's part of their data export: ai-notes' record of them and the note runs they
asked for that are still waiting."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db import jobs as jobs_db
from edvent_ai_notes.db.tables import User
from edvent_platform import reference_users


async def gather(*, session: AsyncSession, user_id: UUID) -> dict[str, Any] | None:
    """None once the user was erased here."""
    known = await reference_users.exported(session, users=User, user_id=user_id)
    if known is not None and known["deleted_at"] is not None:
        return None
    waiting = await jobs_db.requested_by(session, user_id=user_id)
    return {
        "ai_notes_user": known,
        "note_regenerations_waiting": [
            {"lesson_id": str(lesson_id), "requested_at": requested_at.isoformat()}
            for lesson_id, requested_at in waiting
        ],
    }
