"""identity.users → the users reference table, in the consumer's inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.consumers import handlers
from edvent_content.usecases import exports as exports_usecase
from edvent_content.usecases import users as users_usecase
from edvent_events.catalog.content import ContentUserDataExported
from edvent_events.catalog.identity import (
    UserDeleted,
    UserExportRequested,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.envelope import Envelope
from edvent_events.exports import send_part


@handlers.on(UserRegistered)
async def on_user_registered(session: AsyncSession, envelope: Envelope[UserRegistered]) -> None:
    await users_usecase.record_registered(session=session, event=envelope.data)


@handlers.on(UserRoleChanged)
async def on_user_role_changed(session: AsyncSession, envelope: Envelope[UserRoleChanged]) -> None:
    await users_usecase.record_role_change(session=session, event=envelope.data)


@handlers.on(UserSessionsRevoked)
async def on_user_sessions_revoked(
    session: AsyncSession, envelope: Envelope[UserSessionsRevoked]
) -> None:
    await users_usecase.record_sessions_revoked(session=session, event=envelope.data)


@handlers.on(UserDeleted)
async def on_user_deleted(session: AsyncSession, envelope: Envelope[UserDeleted]) -> None:
    await users_usecase.record_deleted(session=session, event=envelope.data)


@handlers.on(UserExportRequested)
async def on_user_export_requested(
    session: AsyncSession, envelope: Envelope[UserExportRequested]
) -> None:
    request = envelope.data
    data = await exports_usecase.gather(session=session, user_id=request.user_id)
    if data is not None:
        await send_part(session, ContentUserDataExported, request=request, data=data)
