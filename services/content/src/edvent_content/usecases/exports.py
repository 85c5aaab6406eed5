"""A user's part of their data export: the courses they own and content's record of them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.db import courses as courses_db
from edvent_content.db.tables import User
from edvent_platform import reference_users


async def gather(*, session: AsyncSession, user_id: UUID) -> dict[str, Any] | None:
    """None once the user was erased here: nothing of theirs is left to export."""
    known = await reference_users.exported(session, users=User, user_id=user_id)
    if known is not None and known["deleted_at"] is not None:
        return None
    courses = await courses_db.owned_by(session, owner_id=user_id)
    return {
        "courses": [
            {
                "id": str(course.id),
                "title": course.title,
                "description": course.description,
                "is_published": course.is_published,
                "published_at": _iso(course.published_at),
                "archived_at": _iso(course.archived_at),
                "created_at": course.created_at.isoformat(),
                "updated_at": course.updated_at.isoformat(),
            }
            for course in courses
        ],
        "content_user": known,
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())
