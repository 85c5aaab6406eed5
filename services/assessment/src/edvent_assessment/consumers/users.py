"""identity.users → the users reference table, in the consumer's inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.consumers import handlers
from edvent_assessment.usecases import users as users_usecase
from edvent_events.catalog.identity import (
    UserDeleted,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_events.envelope import Envelope


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
