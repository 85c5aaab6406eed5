"""The users reference table, from identity's events: the role that counts now, the
session cut-off and the erasure mark (kept the same way as in every service:
`edvent_platform.reference_users`). ai-notes keeps nothing personal about anyone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.tables import User
from edvent_ai_notes.domain.access import Actor
from edvent_events.catalog.identity import UserDeleted, UserRoleChanged, UserSessionsRevoked
from edvent_platform import reference_users
from edvent_platform.auth import Principal


async def actor_for(*, session: AsyncSession, principal: Principal) -> Actor:
    """The caller with the role that counts now; 401 when the token's session ended
    (sessions revoked, account erased) after it was issued."""
    role = await reference_users.role_that_counts(session, users=User, principal=principal)
    return Actor(user_id=principal.user_id, role=role)


async def record_role_change(*, session: AsyncSession, event: UserRoleChanged) -> None:
    await reference_users.record_role_change(session, users=User, event=event)


async def record_sessions_revoked(*, session: AsyncSession, event: UserSessionsRevoked) -> None:
    await reference_users.record_sessions_revoked(session, users=User, event=event)


async def record_deleted(*, session: AsyncSession, event: UserDeleted) -> None:
    await reference_users.record_deleted(session, users=User, event=event)
