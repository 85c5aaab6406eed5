"""Queries on `users`. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import User
from edvent_identity.domain.users import Role
from edvent_platform.cursor import PageKey


async def insert_if_new(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    password_hash: str,
    role: Role,
    email_verified: bool = False,
) -> User | None:
    """The new user, or None if the email is taken (also by a concurrent insert)."""
    statement = (
        insert(User)
        .values(
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
            email_verified=email_verified,
        )
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User)
    )
    return (await session.scalars(statement)).one_or_none()


async def by_email(session: AsyncSession, email: str, *, for_update: bool = False) -> User | None:
    statement = select(User).where(User.email == email)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def by_id(session: AsyncSession, user_id: UUID, *, for_update: bool = False) -> User | None:
    statement = select(User).where(User.id == user_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def lock_without_key(session: AsyncSession, user_id: UUID) -> None:
    """FOR NO KEY UPDATE on the user's row: serialises changes that hang off the user
    without blocking sign-ins and refreshes, which take FOR KEY SHARE."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def page(session: AsyncSession, *, limit: int, after: PageKey | None) -> list[User]:
    """Newest first; `limit` rows after `after`."""
    statement = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
    if after is not None:
        statement = statement.where(
            tuple_(User.created_at, User.id) < tuple_(after.created_at, after.id)
        )
    return list(await session.scalars(statement))


async def set_role(session: AsyncSession, *, user_id: UUID, role: Role) -> User:
    statement = (
        update(User)
        .where(User.id == user_id)
        .values(role=role, updated_at=func.now())
        .returning(User)
        # The session may hold this user already; answer with the updated row.
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def replace_password_hash(
    session: AsyncSession, *, user_id: UUID, old_hash: str, new_hash: str
) -> None:
    # Only if nobody changed it meanwhile.
    await session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == old_hash)
        .values(password_hash=new_hash, updated_at=func.now())
    )


async def _update(session: AsyncSession, user_id: UUID, **values: object) -> User:
    statement = (
        update(User)
        .where(User.id == user_id)
        .values(**values, updated_at=func.now())
        .returning(User)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def set_password_hash(session: AsyncSession, *, user_id: UUID, password_hash: str) -> User:
    return await _update(session, user_id, password_hash=password_hash)


async def set_disabled(session: AsyncSession, *, user_id: UUID, disabled: bool) -> User:
    return await _update(session, user_id, disabled=disabled)


async def set_email_verified(session: AsyncSession, *, user_id: UUID) -> User:
    return await _update(session, user_id, email_verified=True)


async def set_not_before(session: AsyncSession, *, user_id: UUID, not_before: datetime) -> User:
    """Move the session cut-off forward (never back)."""
    return await _update(session, user_id, not_before=func.greatest(User.not_before, not_before))


async def lock_admins(session: AsyncSession) -> int:
    """Serialise changes to who is ADMIN and count the ADMINs that can sign in."""
    # A transaction-scoped lock: two admins demoting each other at once would each
    # see the other still ADMIN and leave none.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('identity.admins', 0))")
    )
    return (
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.disabled.is_(False))
        )
    ) or 0


async def lock_key_share(session: AsyncSession, user_id: UUID) -> User | None:
    """The user, with a lock an erasure waits for (and that waits for an erasure).

    Taken before a refresh token is inserted: a sign-in racing an erasure then either
    finishes first (and the erasure removes its token) or finds no user, instead of
    failing on the foreign key.
    """
    statement = select(User).where(User.id == user_id).with_for_update(key_share=True)
    return (await session.scalars(statement)).one_or_none()


async def delete_user(session: AsyncSession, *, user_id: UUID) -> datetime:
    """Delete the row (its refresh tokens go with it, ON DELETE CASCADE); when."""
    await session.execute(delete(User).where(User.id == user_id))
    deleted_at = await session.scalar(select(func.now()))
    assert isinstance(deleted_at, datetime)
    return deleted_at
