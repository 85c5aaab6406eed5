"""A service's copy of identity's users, kept by `reference_users`, in real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import DateTime, MetaData, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_platform import reference_users
from edvent_platform.auth import Principal
from edvent_platform.db import create_engine, session_factory

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def users_table(schema: str) -> Any:
    """The table as a service declares it, in the service's own schema."""

    class Base(DeclarativeBase):
        metadata = MetaData(schema=schema)

    class User(Base):
        __tablename__ = "users"
        id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
        role: Mapped[str] = mapped_column(Text)
        email: Mapped[str | None] = mapped_column(Text)
        full_name: Mapped[str | None] = mapped_column(Text)
        role_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        updated_at: Mapped[datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now()
        )

    return User


@pytest.fixture
async def db(postgres, scratch_schema) -> AsyncIterator[tuple[AsyncSession, Any]]:
    users = users_table(scratch_schema.schema)
    engine = create_engine(
        postgres.service_url(scratch_schema), schema=scratch_schema.schema, app_name="t"
    )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(users.metadata.create_all)
        async with session_factory(engine)() as session:
            yield session, users
    finally:
        await engine.dispose()


def role_change(user_id: uuid.UUID, role: str, at: datetime) -> UserRoleChanged:
    return UserRoleChanged(user_id=user_id, old_role="STUDENT", new_role=role, changed_at=at)


async def row(session: AsyncSession, users: Any, user_id: uuid.UUID) -> Any:
    return (await session.execute(select(users).where(users.id == user_id))).scalar_one()


async def test_an_older_role_change_never_wins_over_a_newer_one(db) -> None:
    session, users = db
    user_id = uuid.uuid4()
    newer, older = T0 + timedelta(minutes=5), T0
    await reference_users.record_role_change(
        session, users=users, event=role_change(user_id, "INSTRUCTOR", newer)
    )
    await reference_users.record_role_change(
        session, users=users, event=role_change(user_id, "ADMIN", older)
    )
    found = await row(session, users, user_id)
    assert (found.role, found.role_changed_at) == ("INSTRUCTOR", newer)


async def test_a_registration_after_first_use_keeps_the_tokens_role(db) -> None:
    session, users = db
    user_id = uuid.uuid4()
    await reference_users.insert_if_missing(session, users=users, user_id=user_id, role="ADMIN")
    await reference_users.insert_if_missing(session, users=users, user_id=user_id, role="X")
    registered = UserRegistered(
        user_id=user_id, email="a@example.com", full_name="A", role="STUDENT", registered_at=T0
    )
    await reference_users.record_registered(session, users=users, event=registered)
    found = await row(session, users, user_id)
    # Nothing personal is copied: the fields are ciphertext nobody here reads.
    assert (found.role, found.email, found.full_name) == ("ADMIN", None, None)


async def test_a_registration_copies_no_personal_fields(db) -> None:
    session, users = db
    user_id = uuid.uuid4()
    registered = UserRegistered(
        user_id=user_id,
        email="enc:v1:AAAA",
        full_name="enc:v1:BBBB",
        role="STUDENT",
        registered_at=T0,
    )
    await reference_users.record_registered(session, users=users, event=registered)
    found = await row(session, users, user_id)
    assert (found.role, found.email, found.full_name) == ("STUDENT", None, None)


async def test_the_role_that_counts_is_a_change_made_after_the_token(db) -> None:
    session, users = db
    demoted, stranger = uuid.uuid4(), uuid.uuid4()
    await reference_users.record_role_change(
        session, users=users, event=role_change(demoted, "STUDENT", T0)
    )

    def token(user_id: uuid.UUID, issued_at: datetime) -> Principal:
        return Principal(user_id=user_id, role="INSTRUCTOR", token_id="t", issued_at=issued_at)

    older_token, newer_token = (
        token(demoted, T0 - timedelta(minutes=1)),
        token(demoted, T0 + timedelta(minutes=1)),
    )
    assert (
        await reference_users.role_that_counts(session, users=users, principal=older_token)
        == "STUDENT"
    )
    assert (
        await reference_users.role_that_counts(session, users=users, principal=newer_token)
        == "INSTRUCTOR"
    )
    unknown = token(stranger, T0)
    assert (
        await reference_users.role_that_counts(session, users=users, principal=unknown)
        == "INSTRUCTOR"
    )


async def test_tokens_from_before_the_cut_off_or_of_an_erased_user_are_refused(db) -> None:
    from edvent_events.catalog.identity import UserDeleted, UserSessionsRevoked
    from edvent_platform.problems import Unauthorized

    session, users = db
    revoked, erased = uuid.uuid4(), uuid.uuid4()

    def token(user_id: uuid.UUID, issued_at: datetime) -> Principal:
        return Principal(user_id=user_id, role="STUDENT", token_id="t", issued_at=issued_at)

    await reference_users.record_sessions_revoked(
        session,
        users=users,
        event=UserSessionsRevoked(user_id=revoked, not_before=T0, reason="logout_all"),
    )
    # An older cut-off arriving late never moves it back.
    await reference_users.record_sessions_revoked(
        session,
        users=users,
        event=UserSessionsRevoked(
            user_id=revoked, not_before=T0 - timedelta(hours=1), reason="password_changed"
        ),
    )
    with pytest.raises(Unauthorized):
        await reference_users.role_that_counts(
            session, users=users, principal=token(revoked, T0 - timedelta(milliseconds=1))
        )
    assert (
        await reference_users.role_that_counts(session, users=users, principal=token(revoked, T0))
        == "STUDENT"
    )

    await reference_users.record_deleted(
        session, users=users, event=UserDeleted(user_id=erased, deleted_at=T0)
    )
    with pytest.raises(Unauthorized):
        await reference_users.role_that_counts(
            session, users=users, principal=token(erased, T0 + timedelta(days=1))
        )
    assert (await row(session, users, erased)).deleted_at == T0


async def test_role_and_row_says_whether_the_row_exists(db) -> None:
    session, users = db
    principal = Principal(
        user_id=uuid.uuid4(), role="STUDENT", token_id="t", issued_at=T0 + timedelta(hours=1)
    )
    assert await reference_users.role_and_row(session, users=users, principal=principal) == (
        "STUDENT",
        False,
    )
    await reference_users.insert_if_missing(
        session, users=users, user_id=principal.user_id, role="STUDENT"
    )
    assert await reference_users.role_and_row(session, users=users, principal=principal) == (
        "STUDENT",
        True,
    )
