"""course.created, course.published and lesson.published reach their topics, in the
outbox in the same transaction as the change, with every field of the contract, and
read by the CloudEvents SDK."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from edvent_events.topics import CONTENT_COURSES, CONTENT_LESSONS
from edvent_localstack.pytest_plugin import read_topic

COURSE_CREATED = "edvent.content.course.created.v1"
COURSE_PUBLISHED = "edvent.content.course.published.v1"
LESSON_PUBLISHED = "edvent.content.lesson.published.v1"


async def cloud_events(kafka: Any, topic: str, key: str, *, until: int) -> list[Any]:
    records = await read_topic(
        kafka.admin, topic, expected=until, where=lambda r: r.key == key.encode()
    )
    return [
        ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=dict(r.headers), key=r.key, value=r.value),
            JSONFormat(),
        )
        for r in records
    ]


def staged(sql: Any, key: str) -> list[str]:
    """The ce_types in content's outbox for one aggregate, oldest first."""
    rows = sql("SELECT ce_type FROM content.outbox WHERE key = %s ORDER BY id", (key,))
    return [row[0] for row in rows]


def same_time(text: str, other: str) -> bool:
    return datetime.fromisoformat(text) == datetime.fromisoformat(other)


async def test_course_created_and_published_carry_the_contract_fields(
    client, catalogue, people, kafka, sql
) -> None:
    course = await catalogue.course(people.owner, title="Event course")
    published = await catalogue.publish_course(people.owner, course["id"])
    again = await catalogue.publish_course(people.owner, course["id"])
    assert again["published_at"] == published["published_at"]

    created, announced = await cloud_events(kafka, CONTENT_COURSES, course["id"], until=2)
    for event in (created, announced):
        assert event.get_specversion() == "1.0"
        assert event.get_source() == "/services/content"
        assert event.get_subject() == course["id"]
        assert event.get_datacontenttype() == "application/json"
        assert event.get_id()
    assert created.get_type() == COURSE_CREATED
    data = created.get_data()
    assert set(data) == {"course_id", "owner_id", "title", "created_at"}
    assert data["course_id"] == course["id"]
    assert data["owner_id"] == str(people.owner.id)
    assert data["title"] == "Event course"
    assert same_time(data["created_at"], course["created_at"])

    assert announced.get_type() == COURSE_PUBLISHED
    data = announced.get_data()
    assert set(data) == {"course_id", "owner_id", "title", "published_at"}
    assert (data["course_id"], data["owner_id"]) == (course["id"], str(people.owner.id))
    assert data["title"] == "Event course"
    assert same_time(data["published_at"], published["published_at"])
    # Publishing again announced nothing.
    assert staged(sql, course["id"]) == [COURSE_CREATED, COURSE_PUBLISHED]


async def test_lesson_published_again_after_each_content_change_only(
    client, catalogue, people, kafka, sql
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], title="Intro", body="v1")
    url = f"/api/v1/lessons/{lesson['id']}"
    markdown = {**people.owner.auth, "Content-Type": "text/markdown"}
    # Changes before publishing announce nothing.
    assert (await client.put(f"{url}/content", content=b"v2", headers=markdown)).status_code == 200
    assert staged(sql, lesson["id"]) == []

    first = (await client.post(f"{url}/publish", headers=people.owner.auth)).json()
    republished = (await client.post(f"{url}/publish", headers=people.owner.auth)).json()
    assert republished["published_at"] == first["published_at"]
    same = await client.put(f"{url}/content", content=b"v2", headers=markdown)
    assert same.json()["published_at"] == first["published_at"]
    assert staged(sql, lesson["id"]) == [LESSON_PUBLISHED]

    changed = (await client.put(f"{url}/content", content=b"v3", headers=markdown)).json()
    assert changed["published_at"] > first["published_at"]
    assert staged(sql, lesson["id"]) == [LESSON_PUBLISHED, LESSON_PUBLISHED]

    events = await cloud_events(kafka, CONTENT_LESSONS, lesson["id"], until=2)
    assert [e.get_type() for e in events] == [LESSON_PUBLISHED, LESSON_PUBLISHED]
    for event, state, body in ((events[0], first, b"v2"), (events[1], changed, b"v3")):
        assert event.get_subject() == lesson["id"]
        assert event.get_source() == "/services/content"
        data = event.get_data()
        assert set(data) == {
            "lesson_id",
            "course_id",
            "title",
            "order_index",
            "content_key",
            "content_sha256",
            "published_at",
        }
        assert data["lesson_id"] == lesson["id"]
        assert data["course_id"] == course["id"]
        assert data["title"] == "Intro"
        assert data["order_index"] == 0
        assert data["content_sha256"] == hashlib.sha256(body).hexdigest()
        assert data["content_key"] == state["content_url"]
        assert same_time(data["published_at"], state["published_at"])
    assert events[0].get_data()["content_key"] != events[1].get_data()["content_key"]


async def test_a_failed_change_stages_no_event(client, catalogue, people, sql) -> None:
    course = await catalogue.course(people.owner)
    clash = await catalogue.lesson(people.owner, course["id"], order_index=0)
    response = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        json={"title": "Clash", "content_markdown": "x", "order_index": 0},
        headers=people.owner.auth,
    )
    assert response.status_code == 409
    forbidden = await client.post(
        f"/api/v1/courses/{course['id']}/publish", headers=people.other.auth
    )
    assert forbidden.status_code == 404
    assert staged(sql, course["id"]) == [COURSE_CREATED]
    assert staged(sql, clash["id"]) == []
