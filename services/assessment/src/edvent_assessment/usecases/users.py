"""The users reference table: from identity's events and from valid tokens.

How rows are kept is shared (`edvent_platform.reference_users`); which role a
token-made row may hold is this service's rule.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db.tables import User
from edvent_assessment.domain.access import Actor, Role
from edvent_events.catalog.identity import (
    UserDeleted,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_platform import reference_users
from edvent_platform.auth import Principal


async def actor_for(*, session: AsyncSession, principal: Principal) -> Actor:
    """The caller with the role that counts now: a role change heard of since the token
    was issued overrides the token's."""
    role, known = await reference_users.role_and_row(session, users=User, principal=principal)
    return Actor(user_id=principal.user_id, role=role, known=known)


async def remember(*, session: AsyncSession, actor: Actor) -> None:
    """A valid token proves its user exists: make the row a foreign key can point at
    (nothing to do when the role lookup found it; rows are never deleted)."""
    if actor.known:
        return
    role = actor.role if actor.role in Role.__members__ else Role.STUDENT
    await reference_users.insert_if_missing(session, users=User, user_id=actor.user_id, role=role)


async def record_registered(*, session: AsyncSession, event: UserRegistered) -> None:
    await reference_users.record_registered(session, users=User, event=event)


async def record_role_change(*, session: AsyncSession, event: UserRoleChanged) -> None:
    await reference_users.record_role_change(session, users=User, event=event)


async def record_sessions_revoked(*, session: AsyncSession, event: UserSessionsRevoked) -> None:
    await reference_users.record_sessions_revoked(session, users=User, event=event)


async def record_deleted(*, session: AsyncSession, event: UserDeleted) -> None:
    await reference_users.record_deleted(session, users=User, event=event)
