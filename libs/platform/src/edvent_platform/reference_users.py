"""A service's copy of identity's users, kept the same way everywhere.

The service owns the table (in its own schema) and passes its mapped class in; it
needs the columns `id` (primary key), `role`, `email`, `full_name` (both left empty
now, and cleared at erasure for rows filled before), `role_changed_at`, `not_before`,
`deleted_at` and `updated_at`. Rows come from two
places: identity's `identity.users` events, and valid tokens (a token proves its user exists, so a
foreign key may point at the user before the registration event arrives). Callers
own the transaction. Which roles a service accepts is its own rule, not this one's.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from edvent_events.catalog.identity import (
    UserDeleted,
    UserRegistered,
    UserRoleChanged,
    UserSessionsRevoked,
)
from edvent_platform.auth import Principal, current_role, session_ended


async def insert_if_missing(
    session: AsyncSession, *, users: type[DeclarativeBase], user_id: UUID, role: str
) -> None:
    """From a valid token: the user exists; events fill in the rest later."""
    await session.execute(
        insert(users).values(id=user_id, role=role).on_conflict_do_nothing(index_elements=["id"])
    )


async def record_registered(
    session: AsyncSession, *, users: type[DeclarativeBase], event: UserRegistered
) -> None:
    """The user exists. The email and name are not copied: they arrive encrypted with the
    user's key (edvent_events.pii), no service reads them, and a copy kept here would
    be one more place an erasure has to reach."""
    await session.execute(
        # The role of a row that exists stays: one made from a token may hold a newer
        # role than the registration's, and role changes come as their own events.
        insert(users)
        .values(id=event.user_id, role=event.role)
        .on_conflict_do_nothing(index_elements=["id"])
    )


async def record_role_change(
    session: AsyncSession, *, users: type[DeclarativeBase], event: UserRoleChanged
) -> None:
    columns = users.__table__.c
    changed_at = event.changed_at
    statement = insert(users).values(
        id=event.user_id, role=event.new_role, role_changed_at=changed_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"role": event.new_role, "role_changed_at": changed_at, "updated_at": func.now()},
            # Never let an older change win over a newer one.
            where=or_(columns.role_changed_at.is_(None), columns.role_changed_at <= changed_at),
        )
    )


async def record_sessions_revoked(
    session: AsyncSession, *, users: type[DeclarativeBase], event: UserSessionsRevoked
) -> None:
    """Tokens issued before `not_before` stop counting; the latest cut-off wins."""
    columns = users.__table__.c
    statement = insert(users).values(id=event.user_id, role="STUDENT", not_before=event.not_before)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "not_before": func.greatest(columns.not_before, event.not_before),
                "updated_at": func.now(),
            },
        )
    )


async def record_deleted(
    session: AsyncSession, *, users: type[DeclarativeBase], event: UserDeleted
) -> None:
    """The person is erased: the row stays (foreign keys point at it) as a pseudonym with
    nothing personal, and every token of the user stops counting."""
    statement = insert(users).values(
        id=event.user_id, role="STUDENT", deleted_at=event.deleted_at, not_before=event.deleted_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "email": None,
                "full_name": None,
                "deleted_at": event.deleted_at,
                "not_before": event.deleted_at,
                "updated_at": func.now(),
            },
        )
    )


async def role_that_counts(
    session: AsyncSession, *, users: type[DeclarativeBase], principal: Principal
) -> str:
    """The caller's role now: the token's, or one identity's events gave the user since
    the token was issued (see `current_role`). `Unauthorized` when the token's session
    has ended since (sessions revoked, account erased; see `session_ended`)."""
    role, _ = await role_and_row(session, users=users, principal=principal)
    return role


async def role_and_row(
    session: AsyncSession, *, users: type[DeclarativeBase], principal: Principal
) -> tuple[str, bool]:
    """`role_that_counts`, and whether the user's row exists already: rows are never
    deleted (an erasure keeps a pseudonym), so a caller that found it need not
    `insert_if_missing` it again in the same transaction (one round trip fewer)."""
    columns = users.__table__.c
    row = (
        await session.execute(
            select(
                columns.role, columns.role_changed_at, columns.not_before, columns.deleted_at
            ).where(columns.id == principal.user_id)
        )
    ).first()
    if row is None:
        return principal.role, False
    session_ended(principal, not_before=row.not_before, deleted=row.deleted_at is not None)
    return current_role(principal, known_role=row.role, changed_at=row.role_changed_at), True


async def exported(
    session: AsyncSession, *, users: type[DeclarativeBase], user_id: UUID
) -> dict[str, object] | None:
    """What the service's reference row says of the user, for their data export; None
    when the service never heard of them."""
    columns = users.__table__.c
    row = (
        await session.execute(
            select(
                columns.role, columns.role_changed_at, columns.not_before, columns.deleted_at
            ).where(columns.id == user_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return {
        "user_id": str(user_id),
        "role": row.role,
        "role_changed_at": _iso(row.role_changed_at),
        "sessions_not_before": _iso(row.not_before),
        "deleted_at": _iso(row.deleted_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
