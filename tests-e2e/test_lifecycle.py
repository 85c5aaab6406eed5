"""Unpublish, archive, delete and move through the gateway, as a student, the owner and
ADMIN see them in content, ai-notes and assessment (issue 25; CONTRACT.md "Who may see
what" and the content table). Subscribers learn of each change from content's events,
so their checks poll with a deadline."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from .conftest import Platform
from .helpers import admin as bootstrap_admin
from .helpers import create_exam, note_ready, register, until

pytestmark = pytest.mark.e2e

LESSON = """# Tidal locking

## Why one face

The Moon keeps one face towards the Earth because tidal forces slowed its spin until
one rotation took as long as one orbit. The word {word} marks this lesson for search.

## Other moons

Most large moons of the solar system are tidally locked to their planets, and Pluto and
Charon are locked to each other.
"""


def body(word: str) -> str:
    return LESSON.format(word=word)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def published_course(gateway: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, Any]:
    """A published course with one published lesson carrying a unique word."""
    word = f"plantedword{secrets.token_hex(4)}"
    course = await ok(
        await gateway.post("/api/v1/courses", json={"title": "Moons"}, headers=owner), 201
    )
    lesson = await ok(
        await gateway.post(
            f"/api/v1/courses/{course['id']}/lessons",
            json={"title": "Tidal locking", "content_markdown": body(word)},
            headers=owner,
        ),
        201,
    )
    await ok(await gateway.post(f"/api/v1/lessons/{lesson['id']}/publish", headers=owner))
    await ok(await gateway.post(f"/api/v1/courses/{course['id']}/publish", headers=owner))
    return {"course": course["id"], "lesson": lesson["id"], "word": word}


async def gone_for(
    gateway: httpx.AsyncClient, auth: dict[str, str], path: str, *, timeout: float = 30
) -> None:
    """`path` answers 404 for `auth` within the deadline (a subscriber heard of it)."""
    answer = await until(
        lambda: gateway.get(path, headers=auth), lambda r: r.status_code == 404, timeout=timeout
    )
    assert answer.status_code == 404, f"{path}: {answer.status_code} {answer.text}"


async def found_by_search(
    gateway: httpx.AsyncClient, auth: dict[str, str], lesson_id: str, word: str
) -> bool:
    search = await gateway.get("/api/v1/notes/search", params={"q": word}, headers=auth)
    assert search.status_code == 200, search.text
    return lesson_id in {item["lesson_id"] for item in search.json()["items"]}


async def send_as_content(platform: Platform, ce_type: str, key: str, data: dict[str, Any]) -> None:
    """An event on content's topic exactly as content's relay writes it: a redelivery or
    a late copy, which the outbox cannot be made to send again on purpose."""
    producer = AIOKafkaProducer(**platform.kafka_as("content").client_kwargs())
    await producer.start()
    try:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        await producer.send_and_wait(
            "content.lessons",
            key=key.encode(),
            value=json.dumps(data).encode(),
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_id", str(uuid.uuid4()).encode()),
                ("ce_source", b"/services/content"),
                ("ce_type", ce_type.encode()),
                ("ce_time", now.encode()),
                ("ce_subject", key.encode()),
                ("content-type", b"application/json"),
            ],
        )
    finally:
        await producer.stop()


async def test_an_unpublished_course_is_hidden_in_every_service_until_published_again(gateway):
    owner = (await register(gateway, role="INSTRUCTOR", prefix="lifecycle")).auth
    student = (await register(gateway, prefix="lifecycle")).auth
    admin = await bootstrap_admin(gateway)
    world = await published_course(gateway, owner)
    course, lesson = world["course"], world["lesson"]
    exam = await create_exam(gateway, owner, course)
    await note_ready(gateway, student, lesson)
    seen = await until(  # once assessment heard course.published
        lambda: gateway.get(f"/api/v1/exams/{exam}", headers=student),
        lambda r: r.status_code == 200,
    )
    assert seen.status_code == 200, seen.text

    unpublished = await ok(await gateway.post(f"/api/v1/courses/{course}/unpublish", headers=owner))
    assert unpublished["is_published"] is False
    # content at once; ai-notes and assessment once they heard course.unpublished.
    for path in (f"/api/v1/courses/{course}", f"/api/v1/lessons/{lesson}"):
        assert (await gateway.get(path, headers=student)).status_code == 404
    await gone_for(gateway, student, f"/api/v1/notes/{lesson}")
    await gone_for(gateway, student, f"/api/v1/exams/{exam}")
    assert not await found_by_search(gateway, student, lesson, world["word"])
    listed = await ok(
        await gateway.get("/api/v1/exams", params={"course_id": course}, headers=student)
    )
    assert exam not in {item["id"] for item in listed["items"]}
    for auth in (owner, admin):
        await ok(await gateway.get(f"/api/v1/courses/{course}", headers=auth))
        await ok(await gateway.get(f"/api/v1/notes/{lesson}", headers=auth))
        await ok(await gateway.get(f"/api/v1/exams/{exam}", headers=auth))

    await ok(await gateway.post(f"/api/v1/courses/{course}/publish", headers=owner))
    await ok(await gateway.get(f"/api/v1/lessons/{lesson}", headers=student))
    note = await until(
        lambda: gateway.get(f"/api/v1/notes/{lesson}", headers=student),
        lambda r: r.status_code == 200,
    )
    assert note.status_code == 200, note.text


async def test_an_archived_course_is_hidden_takes_no_attempts_and_keeps_its_results(gateway):
    owner = (await register(gateway, role="INSTRUCTOR", prefix="lifecycle")).auth
    student = (await register(gateway, prefix="lifecycle")).auth
    admin = await bootstrap_admin(gateway)
    world = await published_course(gateway, owner)
    course, lesson = world["course"], world["lesson"]
    exam = await create_exam(gateway, owner, course)
    await note_ready(gateway, student, lesson)
    attempt = await until(
        lambda: gateway.post(f"/api/v1/exams/{exam}/attempts", headers=student),
        lambda r: r.status_code == 201,
    )
    attempt = await ok(attempt, 201)
    answers = [{"question_id": attempt["questions"][0]["question_id"], "option_ids": ["b"]}]
    await ok(
        await gateway.post(
            f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers}, headers=student
        )
    )

    archived = await ok(await gateway.post(f"/api/v1/courses/{course}/archive", headers=owner))
    assert archived["archived_at"] is not None
    for path in (f"/api/v1/courses/{course}", f"/api/v1/lessons/{lesson}"):
        assert (await gateway.get(path, headers=student)).status_code == 404
    anonymous = await ok(await gateway.get("/api/v1/courses", params={"limit": 100}))
    assert course not in {item["id"] for item in anonymous["items"]}
    await gone_for(gateway, student, f"/api/v1/notes/{lesson}")
    await gone_for(gateway, student, f"/api/v1/exams/{exam}")
    started = await gateway.post(f"/api/v1/exams/{exam}/attempts", headers=student)
    assert started.status_code in (404, 409), started.text
    # Nothing is deleted: the student's own attempt, the owner's results.
    await ok(await gateway.get(f"/api/v1/attempts/{attempt['id']}", headers=student))
    for auth in (owner, admin):
        await ok(await gateway.get(f"/api/v1/courses/{course}", headers=auth))
        await ok(await gateway.get(f"/api/v1/notes/{lesson}", headers=auth))
        analytics = await ok(await gateway.get(f"/api/v1/exams/{exam}/analytics", headers=auth))
        assert analytics["attempts_completed"] == 1
    # Archiving is final.
    again = await gateway.post(f"/api/v1/courses/{course}/publish", headers=owner)
    assert again.status_code == 409, again.text


async def test_an_unpublished_lesson_leaves_students_notes_and_search(gateway):
    owner = (await register(gateway, role="INSTRUCTOR", prefix="lifecycle")).auth
    student = (await register(gateway, prefix="lifecycle")).auth
    world = await published_course(gateway, owner)
    lesson, word = world["lesson"], world["word"]
    await note_ready(gateway, student, lesson)
    found = await until(
        lambda: gateway.get("/api/v1/notes/search", params={"q": word}, headers=student),
        lambda r: r.status_code == 200 and bool(r.json()["items"]),
    )
    assert lesson in {item["lesson_id"] for item in found.json()["items"]}

    unpublished = await ok(await gateway.post(f"/api/v1/lessons/{lesson}/unpublish", headers=owner))
    assert unpublished["published_at"] is None
    assert (await gateway.get(f"/api/v1/lessons/{lesson}", headers=student)).status_code == 404
    await gone_for(gateway, student, f"/api/v1/notes/{lesson}")
    assert not await found_by_search(gateway, student, lesson, word)
    await ok(await gateway.get(f"/api/v1/notes/{lesson}", headers=owner))

    # Published again: lesson.published again, and students see it again.
    await ok(await gateway.post(f"/api/v1/lessons/{lesson}/publish", headers=owner))
    await note_ready(gateway, student, lesson)


async def test_a_deleted_lesson_is_gone_everywhere_and_a_late_publish_does_nothing(
    gateway, platform
):
    owner = (await register(gateway, role="INSTRUCTOR", prefix="lifecycle")).auth
    student = (await register(gateway, prefix="lifecycle")).auth
    admin = await bootstrap_admin(gateway)
    world = await published_course(gateway, owner)
    course, lesson, word = world["course"], world["lesson"], world["word"]
    before = await ok(await gateway.get(f"/api/v1/lessons/{lesson}", headers=owner))
    await note_ready(gateway, student, lesson)

    deleted = await gateway.delete(f"/api/v1/lessons/{lesson}", headers=owner)
    assert deleted.status_code == 204, deleted.text
    for auth in (student, owner, admin):
        assert (await gateway.get(f"/api/v1/lessons/{lesson}", headers=auth)).status_code == 404
        content = await gateway.get(f"/api/v1/lessons/{lesson}/content", headers=auth)
        assert content.status_code == 404
        await gone_for(gateway, auth, f"/api/v1/notes/{lesson}")
        assert not await found_by_search(gateway, auth, lesson, word)

    # A copy of lesson.published arriving after the delete: the delete wins.
    await send_as_content(
        platform,
        "edvent.content.lesson.published.v1",
        lesson,
        {
            "lesson_id": lesson,
            "course_id": course,
            "title": before["title"],
            "order_index": before["order_index"],
            "content_key": before["content_url"],
            "content_sha256": before["content_sha256"],
            "published_at": before["published_at"],
        },
    )
    # A lesson published after it, as a marker that ai-notes has moved past the copy.
    marker = await ok(
        await gateway.post(
            f"/api/v1/courses/{course}/lessons",
            json={"title": "Marker", "content_markdown": body("marker")},
            headers=owner,
        ),
        201,
    )
    await ok(await gateway.post(f"/api/v1/lessons/{marker['id']}/publish", headers=owner))
    await note_ready(gateway, admin, marker["id"])
    for auth in (owner, admin):
        assert (await gateway.get(f"/api/v1/notes/{lesson}", headers=auth)).status_code == 404
        assert not await found_by_search(gateway, auth, lesson, word)


async def test_a_course_moved_by_admin_is_managed_by_the_new_owner_only(gateway):
    old = await register(gateway, role="INSTRUCTOR", prefix="lifecycle")
    new = await register(gateway, role="INSTRUCTOR", prefix="lifecycle")
    admin = await bootstrap_admin(gateway)
    world = await published_course(gateway, old.auth)
    course, lesson = world["course"], world["lesson"]
    exam = await create_exam(gateway, old.auth, course)
    path = f"/api/v1/courses/{course}"

    refused = await gateway.patch(path, json={"owner_id": new.id}, headers=old.auth)
    assert refused.status_code == 403, refused.text
    moved = await until(  # content hears of the new instructor from identity's events
        lambda: gateway.patch(path, json={"owner_id": new.id}, headers=admin),
        lambda r: r.status_code != 422,
    )
    assert (await ok(moved))["owner_id"] == new.id

    # content: at once.
    await ok(await gateway.patch(path, json={"title": "Moons, moved"}, headers=new.auth))
    await ok(await gateway.post(f"/api/v1/lessons/{lesson}/unpublish", headers=new.auth))
    assert (await gateway.patch(path, json={"title": "No"}, headers=old.auth)).status_code == 403
    denied = await gateway.post(f"/api/v1/lessons/{lesson}/publish", headers=old.auth)
    assert denied.status_code == 404, denied.text  # a draft lesson they may not see
    # assessment and ai-notes: once course.owner_changed arrived.
    results = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam}/analytics", headers=new.auth),
        lambda r: r.status_code == 200,
    )
    assert results.status_code == 200, results.text
    old_results = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam}/analytics", headers=old.auth),
        lambda r: r.status_code == 403,
    )
    assert old_results.status_code == 403, old_results.text
    await ok(await gateway.post(f"/api/v1/lessons/{lesson}/publish", headers=new.auth))
    regenerate = await until(
        lambda: gateway.post(f"/api/v1/notes/{lesson}/regenerate", headers=old.auth),
        lambda r: r.status_code == 403,
    )
    assert regenerate.status_code == 403, regenerate.text
    regenerate = await until(
        lambda: gateway.post(f"/api/v1/notes/{lesson}/regenerate", headers=new.auth),
        lambda r: r.status_code == 202,
    )
    assert regenerate.status_code == 202, regenerate.text
