"""The per-exam analytics documents. Callers own the transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import ExamAnalytics


async def document(session: AsyncSession, exam_id: UUID) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await session.scalar(
        select(ExamAnalytics.document).where(ExamAnalytics.exam_id == exam_id)
    )
    return found


async def locked_document(session: AsyncSession, exam_id: UUID) -> dict[str, Any]:
    """The exam's document, made if missing, locked until the caller's transaction ends
    (attempts of one exam are keyed by attempt, so they arrive on several partitions)."""
    await session.execute(
        insert(ExamAnalytics)
        .values(exam_id=exam_id, document={})
        .on_conflict_do_nothing(index_elements=[ExamAnalytics.exam_id])
    )
    found: dict[str, Any] = (
        await session.scalars(
            select(ExamAnalytics.document).where(ExamAnalytics.exam_id == exam_id).with_for_update()
        )
    ).one()
    return found


async def store(session: AsyncSession, *, exam_id: UUID, document: dict[str, Any]) -> None:
    await session.execute(
        update(ExamAnalytics)
        .where(ExamAnalytics.exam_id == exam_id)
        .values(document=document, updated_at=func.now())
    )
