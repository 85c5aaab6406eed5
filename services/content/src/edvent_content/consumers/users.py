"""identity.users → the users reference table, in the consumer's inbox transaction."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.usecases import users as users_usecase
from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_events.consumer import Handler
from edvent_events.contract import Event
from edvent_events.envelope import Envelope


async def on_user_registered(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, UserRegistered)
    await users_usecase.record_registered(session=session, event=envelope.data)


async def on_user_role_changed(session: AsyncSession, envelope: Envelope) -> None:
    assert isinstance(envelope.data, UserRoleChanged)
    await users_usecase.record_role_change(session=session, event=envelope.data)


HANDLERS: Mapping[type[Event], Handler] = {
    UserRegistered: on_user_registered,
    UserRoleChanged: on_user_role_changed,
}
