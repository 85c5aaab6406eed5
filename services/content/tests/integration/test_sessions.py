"""Every route that reads a token refuses one whose session identity ended since it was
issued (sessions revoked, account erased): 401, also where anonymous callers may read.
The events come over Kafka through content's real consumer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from edvent_events.catalog.identity import UserDeleted, UserSessionsRevoked
from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_localstack.pytest_plugin import eventually

# (method, path, body) for every route of content that reads a token.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/courses", {}),
    ("GET", "/api/v1/courses?owner=me", {}),
    ("POST", "/api/v1/courses", {"json": {"title": "New"}}),
    ("GET", "/api/v1/courses/{course}", {}),
    ("PATCH", "/api/v1/courses/{course}", {"json": {"title": "Renamed"}}),
    ("POST", "/api/v1/courses/{course}/publish", {}),
    ("POST", "/api/v1/courses/{course}/unpublish", {}),
    ("POST", "/api/v1/courses/{course}/archive", {}),
    ("GET", "/api/v1/courses/{course}/lessons", {}),
    ("POST", "/api/v1/courses/{course}/lessons", {"json": {"title": "L", "content_markdown": "x"}}),
    ("GET", "/api/v1/lessons/{lesson}", {}),
    ("GET", "/api/v1/lessons/{lesson}/content", {}),
    (
        "PUT",
        "/api/v1/lessons/{lesson}/content",
        {"content": b"# New", "headers": {"Content-Type": "text/markdown"}},
    ),
    ("POST", "/api/v1/lessons/{lesson}/publish", {}),
    ("POST", "/api/v1/lessons/{lesson}/unpublish", {}),
    ("DELETE", "/api/v1/lessons/{lesson}", {}),
]


async def send(kafka: Any, event: Event) -> None:
    message = encode(event)
    # As identity's principal: the events are identity's.
    producer = AIOKafkaProducer(**kafka.client_kwargs("identity"))
    await producer.start()
    try:
        await producer.send_and_wait(
            message.topic, key=message.key, value=message.value, headers=message.headers
        )
    finally:
        await producer.stop()


async def refusals(client: Any, person: Any, world: dict[str, str]) -> dict[str, int]:
    got = {}
    for method, path, extra in ROUTES:
        headers = {**person.auth, **extra.get("headers", {})}
        request = {key: value for key, value in extra.items() if key != "headers"}
        response = await client.request(method, path.format(**world), headers=headers, **request)
        got[f"{method} {path}"] = response.status_code
    return got


@pytest.mark.parametrize("ending", ["sessions_revoked", "deleted"])
async def test_a_token_of_an_ended_session_is_refused_on_every_route(
    client, catalogue, identity, people, kafka, sql, ending
) -> None:
    person = await identity.instructor(people.admin, f"ending-{ending}")
    course = await catalogue.course(person, published=True)
    lesson = await catalogue.lesson(person, course["id"], published=True)
    world = {"course": course["id"], "lesson": lesson["id"]}
    assert person.id is not None
    now = datetime.now(UTC)
    event: Event = (
        UserSessionsRevoked(user_id=person.id, not_before=now, reason="logout_all")
        if ending == "sessions_revoked"
        else UserDeleted(user_id=person.id, deleted_at=now)
    )
    column = "not_before" if ending == "sessions_revoked" else "deleted_at"
    await send(kafka, event)
    await eventually(
        lambda: bool(
            sql(f"SELECT 1 FROM content.users WHERE id = %s AND {column} IS NOT NULL", (person.id,))
        )
    )

    got = await refusals(client, person, world)
    assert got == dict.fromkeys(got, 401), got
    # Nothing was changed by the refused token, and the course is still there.
    assert (await client.get(f"/api/v1/lessons/{lesson['id']}")).status_code == 200
