"""Queries on `user_exports` and `user_export_parts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import EmailMessage, RefreshToken, UserExport, UserExportPart


async def latest(session: AsyncSession, *, user_id: UUID) -> UserExport | None:
    return await session.scalar(
        select(UserExport)
        .where(UserExport.user_id == user_id)
        .order_by(UserExport.requested_at.desc())
        .limit(1)
    )


async def add(
    session: AsyncSession,
    *,
    export_id: UUID,
    user_id: UUID,
    private_key: bytes,
    services: Sequence[str],
    requested_at: datetime,
) -> None:
    await session.execute(
        insert(UserExport).values(
            id=export_id,
            user_id=user_id,
            private_key=private_key,
            services=list(services),
            requested_at=requested_at,
        )
    )


async def by_id(
    session: AsyncSession, export_id: UUID, *, for_update: bool = False
) -> UserExport | None:
    query = select(UserExport).where(UserExport.id == export_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_chunk(
    session: AsyncSession,
    *,
    export_id: UUID,
    service: str,
    chunk: int,
    chunks: int,
    sealed: str,
    exported_at: datetime,
) -> None:
    """Store a chunk; a redelivered one changes nothing."""
    await session.execute(
        pg_insert(UserExportPart)
        .values(
            export_id=export_id,
            service=service,
            chunk=chunk,
            chunks=chunks,
            sealed=sealed,
            exported_at=exported_at,
        )
        .on_conflict_do_nothing()
    )


async def chunks_of(session: AsyncSession, *, export_id: UUID) -> list[UserExportPart]:
    return list(
        await session.scalars(
            select(UserExportPart)
            .where(UserExportPart.export_id == export_id)
            .order_by(UserExportPart.service, UserExportPart.chunk)
        )
    )


async def mark_completed(session: AsyncSession, *, export_id: UUID, at: datetime) -> None:
    await session.execute(
        update(UserExport)
        .where(UserExport.id == export_id, UserExport.completed_at.is_(None))
        .values(completed_at=at)
    )


async def forget(session: AsyncSession, *, export_id: UUID) -> None:
    await session.execute(delete(UserExport).where(UserExport.id == export_id))


async def prune(session: AsyncSession, *, requested_before: datetime) -> int:
    """Forget exports (their keys and parts) asked for before the moment."""
    result = await session.execute(
        delete(UserExport).where(UserExport.requested_at < requested_before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sessions_of(session: AsyncSession, *, user_id: UUID) -> list[RefreshToken]:
    """The user's sign-ins: the newest token of each refresh family."""
    newest = (
        select(RefreshToken.family_id, func.max(RefreshToken.issued_at).label("issued_at"))
        .where(RefreshToken.user_id == user_id)
        .group_by(RefreshToken.family_id)
        .subquery()
    )
    return list(
        await session.scalars(
            select(RefreshToken)
            .join(
                newest,
                (RefreshToken.family_id == newest.c.family_id)
                & (RefreshToken.issued_at == newest.c.issued_at),
            )
            .order_by(RefreshToken.family_started_at)
        )
    )


async def emails_to(session: AsyncSession, *, user_id: UUID) -> list[EmailMessage]:
    return list(
        await session.scalars(
            select(EmailMessage)
            .where(EmailMessage.user_id == user_id)
            .order_by(EmailMessage.created_at)
        )
    )
