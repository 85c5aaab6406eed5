"""content's users reference table: from identity.users events and from tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer

from edvent_events.catalog.identity import UserRegistered, UserRoleChanged
from edvent_events.envelope import build_headers
from edvent_localstack.pytest_plugin import eventually


def user_row(sql: Any, user_id: Any) -> tuple[Any, ...] | None:
    rows = sql(
        "SELECT role, email, full_name, role_changed_at IS NOT NULL"
        " FROM content.users WHERE id = %s",
        (user_id,),
    )
    return rows[0] if rows else None


async def test_registrations_and_role_changes_arrive_from_identity_events(
    identity, people, sql
) -> None:
    person = await identity.register("learner")
    await eventually(lambda: user_row(sql, person.id) is not None)
    # The email and name are not copied (they come encrypted, and nobody here reads them).
    assert user_row(sql, person.id) == ("STUDENT", None, None, False)

    response = await identity.http.patch(
        f"/api/v1/users/{person.id}", json={"role": "INSTRUCTOR"}, headers=people.admin.auth
    )
    assert response.status_code == 200
    await eventually(lambda: (user_row(sql, person.id) or ("",))[0] == "INSTRUCTOR")
    assert user_row(sql, person.id) == ("INSTRUCTOR", None, None, True)


async def test_a_valid_token_makes_the_user_known_on_first_use(
    client, identity, people, sql
) -> None:
    person = await identity.instructor(people.admin, "first-use")
    # Both its events are in; the row goes, and the token alone must bring it back.
    await eventually(lambda: (user_row(sql, person.id) or ("",))[0] == "INSTRUCTOR")
    sql("DELETE FROM content.users WHERE id = %s", (person.id,))
    response = await client.post("/api/v1/courses", json={"title": "T"}, headers=person.auth)
    assert response.status_code == 201, response.text
    row = user_row(sql, person.id)
    assert row is not None
    assert row[0] == "INSTRUCTOR"


async def test_a_role_identity_adds_later_is_recorded_not_dead_lettered(app, kafka, sql) -> None:
    # Producers validate roles against the ones they know, so the newer identity's
    # message is written by hand, exactly as it would travel.
    user_id = uuid.uuid4()
    producer = AIOKafkaProducer(**kafka.client_kwargs())
    await producer.start()
    try:
        for ce_type, data in (
            (
                UserRegistered.ce_type,
                {"user_id": str(user_id), "email": "mentor@example.com", "role": "STUDENT",
                 "registered_at": "2026-11-25T08:00:00Z"},
            ),
            (
                UserRoleChanged.ce_type,
                {"user_id": str(user_id), "old_role": "STUDENT", "new_role": "MENTOR",
                 "changed_at": "2026-11-25T09:00:00Z"},
            ),
        ):  # fmt: skip
            await producer.send_and_wait(
                UserRegistered.topic,
                key=str(user_id).encode(),
                value=json.dumps(data).encode(),
                headers=build_headers(
                    event_id=str(uuid.uuid4()),
                    source=UserRegistered.source,
                    ce_type=ce_type,
                    time="2026-11-25T09:00:00Z",
                    subject=str(user_id),
                    traceparent=None,
                ),
            )
    finally:
        await producer.stop()
    await eventually(lambda: (user_row(sql, user_id) or ("",))[0] == "MENTOR")


async def test_a_demoted_instructors_older_token_loses_rights_once_the_event_arrives(
    client, identity, people, sql
) -> None:
    person = await identity.instructor(people.admin, "demoted")
    allowed = await client.post("/api/v1/courses", json={"title": "Mine"}, headers=person.auth)
    assert allowed.status_code == 201, allowed.text
    course_id = allowed.json()["id"]

    demoted = await identity.http.patch(
        f"/api/v1/users/{person.id}", json={"role": "STUDENT"}, headers=people.admin.auth
    )
    assert demoted.status_code == 200
    await eventually(lambda: (user_row(sql, person.id) or ("",))[0] == "STUDENT")

    # The token still says INSTRUCTOR; the role event came after it was issued.
    created = await client.post("/api/v1/courses", json={"title": "No"}, headers=person.auth)
    assert created.status_code == 403, created.text
    renamed = await client.patch(
        f"/api/v1/courses/{course_id}", json={"title": "Renamed"}, headers=person.auth
    )
    assert renamed.status_code in (403, 404), renamed.text
    # A token issued after the change carries the new role and agrees.
    fresh = await identity.login(person.email)
    again = await client.post("/api/v1/courses", json={"title": "No"}, headers=fresh.auth)
    assert again.status_code == 403, again.text


async def test_a_role_change_with_a_forged_source_is_parked_and_never_applied(
    app, kafka, sql
) -> None:
    # Issue 23: written through the broker's door by identity's own principal (the
    # ACLs let it write identity.users), but claiming another source. content's
    # consumer parks it on its dead-letter topic with the reason; the role stays.
    from edvent_events.topics import dlq_topic
    from edvent_localstack.pytest_plugin import read_topic

    user_id = uuid.uuid4()
    key = str(user_id).encode()
    producer = AIOKafkaProducer(**kafka.client_kwargs("identity"))
    await producer.start()
    try:
        for ce_type, source, data in (
            (
                UserRegistered.ce_type, UserRegistered.source,
                {"user_id": str(user_id), "email": "forged@example.com", "role": "STUDENT",
                 "registered_at": "2026-11-25T08:00:00Z"},
            ),
            (
                UserRoleChanged.ce_type, "/evil",
                {"user_id": str(user_id), "old_role": "STUDENT", "new_role": "ADMIN",
                 "changed_at": "2126-11-25T09:00:00Z"},
            ),
        ):  # fmt: skip
            await producer.send_and_wait(
                UserRegistered.topic,
                key=key,
                value=json.dumps(data).encode(),
                headers=build_headers(
                    event_id=str(uuid.uuid4()),
                    source=source,
                    ce_type=ce_type,
                    time="2026-11-25T09:00:00Z",
                    subject=str(user_id),
                    traceparent=None,
                ),
            )
    finally:
        await producer.stop()
    [parked] = await read_topic(
        kafka.admin,
        dlq_topic(UserRoleChanged.topic, "content"),
        expected=1,
        where=lambda record: record.key == key,
    )
    headers = {k: v.decode() for k, v in parked.headers}
    assert headers["ce_source"] == "/evil"
    assert "ce_source" in headers["x-error"], headers
    # The registration applied (no email kept: reference rows hold no personal data),
    # the forged role change not.
    assert user_row(sql, user_id) == ("STUDENT", None, None, False)
