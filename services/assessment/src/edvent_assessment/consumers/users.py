"""identity.users → the users reference table, in the consumer's inbox transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.consumers import handlers
from edvent_assessment.usecases import users as users_usecase
from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_events.envelope import Envelope


@handlers.on(UserRegistered)
async def on_user_registered(session: AsyncSession, envelope: Envelope[UserRegistered]) -> None:
    await users_usecase.record_registered(session=session, event=envelope.data)


@handlers.on(UserRoleChanged)
async def on_user_role_changed(session: AsyncSession, envelope: Envelope[UserRoleChanged]) -> None:
    await users_usecase.record_role_change(session=session, event=envelope.data)
