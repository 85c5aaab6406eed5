"""The users reference table: from identity's events and from valid tokens."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import users as users_db
from edvent_assessment.domain.access import Actor, Role
from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_platform.auth import Principal, current_role


async def actor_for(*, session: AsyncSession, principal: Principal) -> Actor:
    """The caller with the role that counts now: a role change heard of since the token
    was issued overrides the token's (see `current_role`)."""
    known = await users_db.known_role(session, user_id=principal.user_id)
    role, changed_at = known if known is not None else (None, None)
    return Actor(
        user_id=principal.user_id,
        role=current_role(principal, known_role=role, changed_at=changed_at),
    )


async def remember(*, session: AsyncSession, actor: Actor) -> None:
    """A valid token proves its user exists: make the row a foreign key can point at."""
    role = actor.role if actor.role in Role.__members__ else Role.STUDENT
    await users_db.insert_if_missing(session, user_id=actor.user_id, role=role)


async def record_registered(*, session: AsyncSession, event: UserRegistered) -> None:
    await users_db.upsert_registered(
        session,
        user_id=event.user_id,
        role=event.role,
        email=event.email,
        full_name=event.full_name,
    )


async def record_role_change(*, session: AsyncSession, event: UserRoleChanged) -> None:
    await users_db.apply_role_change(
        session, user_id=event.user_id, role=event.new_role, changed_at=event.changed_at
    )
