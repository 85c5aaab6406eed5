"""DELETE /api/v1/users/me and /api/v1/users/{id}: erasure, and course owners refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from edvent_events.catalog.content import CourseCreated, CourseOwnerChanged
from edvent_events.catalog.identity import UserDeleted, UserRegistered
from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_localstack.pytest_plugin import eventually

OWNS_COURSES = "https://edvent.example/problems/owns-courses"


@pytest.fixture(scope="module")
async def producer(kafka: Any) -> AsyncIterator[AIOKafkaProducer]:
    # As content's principal: the course events are content's.
    producer = AIOKafkaProducer(**kafka.client_kwargs("content"))
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def send(producer: AIOKafkaProducer, event: Event) -> None:
    """`event` on the real broker, exactly as content would publish it."""
    message = encode(event)
    await producer.send_and_wait(
        message.topic, key=message.key, value=message.value, headers=message.headers
    )


def rows_naming(sql, email: str) -> list[Any]:
    """Every row of identity's tables that still shows the email, in any column."""
    tables = [
        row[0]
        for row in sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'identity'"
        )
    ]
    found: list[Any] = []
    for table in tables:
        found += sql(
            f"SELECT '{table}' FROM identity.{table} AS t WHERE t::text ILIKE %s",
            (f"%{email}%",),
        )
    return found


async def erase_me(client, account, password: Any) -> Any:
    body = {} if password is None else {"password": password}
    return await client.request("DELETE", "/api/v1/users/me", json=body, headers=account.auth)


async def test_a_user_erases_their_account_with_the_password(
    client, accounts, sql, outbox_rows
) -> None:
    account = await accounts.register()
    wrong = await erase_me(client, account, "not the password at all")
    assert wrong.status_code == 403, wrong.text
    assert wrong.headers["content-type"] == "application/problem+json"
    missing = await erase_me(client, account, None)
    assert missing.status_code == 422, missing.text

    erased = await erase_me(client, account, account.password)
    assert erased.status_code == 204, erased.text

    # Nothing in identity's tables names the person; the erasure is announced.
    assert rows_naming(sql, account.email) == []
    assert sql("SELECT 1 FROM identity.refresh_tokens WHERE user_id = %s", (account.id,)) == []
    assert outbox_rows(account.id) == [UserDeleted.ce_type]
    # Its access token, its refresh token and its password are no good any more.
    assert (await client.get("/api/v1/users/me", headers=account.auth)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refreshed.status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 401


async def test_the_same_email_registers_again_as_a_new_account(client, accounts) -> None:
    account = await accounts.register()
    assert (await erase_me(client, account, account.password)).status_code == 204
    again = await accounts.register(email=account.email)
    assert again.id != account.id
    assert (await client.get("/api/v1/users/me", headers=account.auth)).status_code == 401


async def test_an_admin_erases_a_user(client, accounts, outbox_rows) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    other = await accounts.register()
    refused = await client.delete(f"/api/v1/users/{student.id}", headers=other.auth)
    assert refused.status_code == 403
    erased = await client.delete(f"/api/v1/users/{student.id}", headers=admin.auth)
    assert erased.status_code == 204, erased.text
    assert (await client.get("/api/v1/users/me", headers=student.auth)).status_code == 401
    assert outbox_rows(student.id) == [UserDeleted.ce_type]
    again = await client.delete(f"/api/v1/users/{student.id}", headers=admin.auth)
    assert again.status_code == 404
    unknown = await client.delete(f"/api/v1/users/{uuid.uuid4()}", headers=admin.auth)
    assert unknown.status_code == 404


async def test_the_only_admin_cannot_erase_themselves(client, accounts) -> None:
    admin = await accounts.admin()
    refused = await client.delete(f"/api/v1/users/{admin.id}", headers=admin.auth)
    assert refused.status_code == 409, refused.text
    assert (await client.get("/api/v1/users/me", headers=admin.auth)).status_code == 200


async def test_the_registration_event_is_gone_from_the_outbox(client, accounts, sql) -> None:
    account = await accounts.register()
    staged = sql(
        "SELECT 1 FROM identity.outbox WHERE key = %s AND ce_type = %s",
        (str(account.id), UserRegistered.ce_type),
    )
    assert staged
    assert (await erase_me(client, account, account.password)).status_code == 204
    assert (
        sql(
            "SELECT 1 FROM identity.outbox WHERE key = %s AND ce_type = %s",
            (str(account.id), UserRegistered.ce_type),
        )
        == []
    )


async def test_a_course_owner_is_refused_until_the_course_is_moved(
    client, accounts, producer, sql
) -> None:
    admin = await accounts.admin()
    owner = await accounts.register()
    heir = await accounts.register()
    course_id = uuid.uuid4()
    await send(
        producer,
        CourseCreated(
            course_id=course_id, owner_id=owner.id, title="Mine", created_at=datetime.now(UTC)
        ),
    )

    def owned_by(user_id: uuid.UUID) -> bool:
        return bool(
            sql(
                "SELECT 1 FROM identity.course_owners WHERE course_id = %s AND owner_id = %s",
                (course_id, user_id),
            )
        )

    await eventually(lambda: owned_by(owner.id))
    for refused in (
        await erase_me(client, owner, owner.password),
        await client.delete(f"/api/v1/users/{owner.id}", headers=admin.auth),
    ):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == OWNS_COURSES
        assert refused.json()["courses"] == 1
    assert (await client.get("/api/v1/users/me", headers=owner.auth)).status_code == 200

    await send(
        producer,
        CourseOwnerChanged(
            course_id=course_id,
            old_owner_id=owner.id,
            new_owner_id=heir.id,
            changed_at=datetime.now(UTC),
        ),
    )
    await eventually(lambda: owned_by(heir.id))
    assert (await erase_me(client, owner, owner.password)).status_code == 204


async def test_an_older_ownership_fact_does_not_undo_a_newer_one(identity, sql) -> None:
    from edvent_identity.usecases import owners

    course_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    newer = CourseOwnerChanged(
        course_id=course_id,
        old_owner_id=first,
        new_owner_id=second,
        changed_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    older = CourseCreated(
        course_id=course_id, owner_id=first, title="t", created_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    async with identity.transaction() as session:
        await owners.record_owner_changed(session=session, event=newer)
        await owners.record_course_created(session=session, event=older)
    owner = sql("SELECT owner_id FROM identity.course_owners WHERE course_id = %s", (course_id,))
    assert owner == [(second,)]
