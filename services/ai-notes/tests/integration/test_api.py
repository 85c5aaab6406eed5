"""The notes API: who may read and regenerate, notes by concept, and search."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from edvent_ai_notes.adapters.providers import ProviderUnavailable
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.testing import ingest_lesson
from edvent_localstack.pytest_plugin import eventually
from edvent_platform.db import transaction

from .physics import LESSONS, QUESTIONS
from .test_pipeline import BODY, dead_letter, note, status_is

pytestmark = pytest.mark.integration


async def ready_lesson(client: Any, content: Any, people: Any, body: str = BODY) -> Any:
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=body)
    await content.send(event)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    return event


async def test_reading_needs_a_token_and_an_unpublished_lesson_is_404(client, people):
    unknown = uuid.uuid4()
    for path in (f"/api/v1/notes/{unknown}", "/api/v1/notes?concept=x", "/api/v1/notes/search?q=x"):
        assert (await client.get(path)).status_code == 401
    answer = await client.get(f"/api/v1/notes/{unknown}", headers=people.student.auth)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_regenerate_is_for_the_owner_and_admins_and_goes_pending_then_ready(
    client, content, people, scripted
):
    event = await ready_lesson(client, content, people)
    path = f"/api/v1/notes/{event.lesson_id}/regenerate"
    assert (await client.post(path, headers=people.student.auth)).status_code == 403
    assert (await client.post(path)).status_code == 401
    missing = f"/api/v1/notes/{uuid.uuid4()}/regenerate"
    assert (await client.post(missing, headers=people.admin.auth)).status_code == 404

    calls = scripted.generate_calls
    scripted.gate = asyncio.Event()
    answer = await client.post(path, headers=people.owner.auth)
    assert answer.status_code == 202
    assert answer.json() == {"lesson_id": str(event.lesson_id), "status": "pending"}
    assert (await note(client, people.student, event.lesson_id))["status"] == "pending"
    scripted.gate.set()
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    assert scripted.generate_calls == calls + 1

    assert (await client.post(path, headers=people.admin.auth)).status_code == 202
    await eventually(lambda: scripted.generate_calls == calls + 2)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))


async def test_a_dead_lettered_failed_note_is_regenerated_to_ready(
    client, content, people, scripted, kafka
):
    scripted.fail_always = ProviderUnavailable("down")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)
    await dead_letter(kafka, event.lesson_id)
    assert await status_is(client, people.student, event.lesson_id, "failed")
    scripted.fail_always = None
    path = f"/api/v1/notes/{event.lesson_id}/regenerate"
    assert (await client.post(path, headers=people.owner.auth)).status_code == 202
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    assert (await note(client, people.student, event.lesson_id))["failure_reason"] is None


async def test_notes_by_concept_match_any_case(client, content, people):
    event = await ready_lesson(client, content, people)
    found = await note(client, people.student, event.lesson_id)
    name = found["key_concepts"][0]["name"]
    for asked in (name, name.upper(), f"  {name.lower()} "):
        answer = await client.get(
            "/api/v1/notes", params={"concept": asked}, headers=people.student.auth
        )
        assert answer.status_code == 200, answer.text
        assert [n["lesson_id"] for n in answer.json()["items"]] == [str(event.lesson_id)]
        assert answer.json()["next_cursor"] is None
    answer = await client.get(
        "/api/v1/notes", params={"concept": "no such concept"}, headers=people.student.auth
    )
    assert answer.json()["items"] == []


async def test_notes_by_concept_are_a_contract_list_paged_by_limit_and_cursor(
    client, content, people
):
    events = [await ready_lesson(client, content, people) for _ in range(3)]
    first = await note(client, people.student, events[0].lesson_id)
    params = {"concept": first["key_concepts"][0]["name"], "limit": 2}
    auth = people.student.auth
    page = (await client.get("/api/v1/notes", params=params, headers=auth)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await client.get(
        "/api/v1/notes", params=params | {"cursor": page["next_cursor"]}, headers=auth
    )
    assert rest.json()["next_cursor"] is None
    seen = [n["lesson_id"] for n in page["items"] + rest.json()["items"]]
    assert seen == [str(e.lesson_id) for e in reversed(events)]  # newest first
    for bad in ({"limit": 101}, {"limit": 0}, {"cursor": "not-ours"}):
        answer = await client.get("/api/v1/notes", params=params | bad, headers=auth)
        assert answer.status_code == 422, bad


async def test_the_concept_query_uses_the_gin_index(app):
    from sqlalchemy import select

    from edvent_ai_notes.db.notes import concept_filter
    from edvent_ai_notes.db.tables import ai_notes

    query = select(ai_notes.c.lesson_id).where(concept_filter("Entropy"))
    compiled = query.compile(dialect=app.state.runtime.engine.dialect)
    params = {k: json.dumps(v) for k, v in compiled.params.items()}
    # With so few rows the planner would rightly read the table; forbid that to see
    # whether the index can answer the query at all.
    async with transaction(app.state.runtime.sessions) as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"EXPLAIN {compiled}", params)
        plan = "\n".join(row[0] for row in rows)
    assert "ix_ai_notes_key_concepts" in plan, plan


async def test_search_finds_the_lesson_a_paraphrased_question_is_about(app, client, people):
    ai_notes = app.state.ai_notes
    course_id, other_course = uuid.uuid4(), uuid.uuid4()
    ids: dict[str, uuid.UUID] = {}
    async with transaction(ai_notes.sessions) as session:
        for course in (course_id, other_course):
            # Search serves the lessons of published courses to students.
            await notes_db.record_course_published(
                session,
                course_id=course,
                owner_id=uuid.uuid4(),
                title="Optics",
                at=datetime.now(UTC),
            )
        for index, (title, body) in enumerate(LESSONS.items()):
            ids[title] = uuid.uuid4()
            await ingest_lesson(
                session,
                provider=ai_notes.provider,
                lesson=_lesson(ids[title], course_id, title, index),
                markdown=body,
            )
        # The same refraction lesson in another course: the course filter leaves it out.
        await ingest_lesson(
            session,
            provider=ai_notes.provider,
            lesson=_lesson(uuid.uuid4(), other_course, "Refraction", 0),
            markdown=LESSONS["Refraction of light"],
        )
    misses = []
    for question, title in QUESTIONS:
        answer = await client.get(
            "/api/v1/notes/search",
            params={"q": question, "course_id": str(course_id), "limit": 3},
            headers=people.student.auth,
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        assert {i["lesson_id"] for i in items} <= {str(v) for v in ids.values()}
        if not items or items[0]["lesson_id"] != str(ids[title]):
            misses.append((question, title, items[:1]))
    assert misses == []
    answer = await client.get(
        "/api/v1/notes/search",
        params={"q": "why does a straw in water look broken", "course_id": str(course_id)},
        headers=people.student.auth,
    )
    best = answer.json()["items"][0]
    assert best["heading_path"] == ["Refraction of light", "Everyday effects"]
    assert best["snippet"].startswith("Refraction of light > Everyday effects: ")
    assert "straw" in best["snippet"]
    assert best["score"] > 0


def _lesson(lesson_id: uuid.UUID, course_id: uuid.UUID, title: str, index: int) -> LessonRef:
    return LessonRef(
        lesson_id=lesson_id,
        course_id=course_id,
        title=title,
        order_index=index,
        content_key=f"courses/{course_id}/lessons/{lesson_id}/lesson.md",
        content_sha256="0" * 64,
        published_at=datetime.now(UTC),
    )


async def test_a_search_the_provider_cannot_embed_is_503_with_retry_after(client, people, scripted):
    scripted.fail_embed = ProviderUnavailable("the embeddings endpoint timed out")
    answer = await client.get(
        "/api/v1/notes/search", params={"q": "heat"}, headers=people.student.auth
    )
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["status"] == 503


async def test_a_query_with_u0000_is_422_never_500(client, people):
    # PostgreSQL text cannot hold it; schemathesis found both answering 500.
    for path, params in (
        ("/api/v1/notes", {"concept": "heat\u0000"}),
        ("/api/v1/notes/search", {"q": "heat\u0000"}),
    ):
        answer = await client.get(path, params=params, headers=people.student.auth)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
