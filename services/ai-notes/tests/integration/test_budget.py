"""The LLM budget: regenerate de-duplicated and rate-limited, search in its own lane with
a cache, a daily token budget that leaves notes pending, and notes that still arrive
under a flood."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from edvent_ai_notes.usecases.notes import RegenerateLimits
from edvent_localstack.pytest_plugin import eventually

from .physics import LESSONS
from .test_pipeline import BODY, handled, note, status_is

pytestmark = pytest.mark.integration


async def ready_lesson(client: Any, content: Any, people: Any, body: str = BODY) -> Any:
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=body)
    await content.send(event)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    return event


async def drained(sql: Any) -> None:
    """No note job left running into the next test."""
    await eventually(lambda: sql("SELECT 1 FROM ai_notes.note_jobs") == [], timeout=60)


async def test_regenerate_while_a_run_is_pending_starts_no_second_job(
    client, content, people, scripted, sql
):
    event = await ready_lesson(client, content, people)
    path = f"/api/v1/notes/{event.lesson_id}/regenerate"
    calls = scripted.generate_calls
    scripted.gate = asyncio.Event()
    for person in (people.owner, people.admin, people.owner):
        answer = await client.post(path, headers=person.auth)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"lesson_id": str(event.lesson_id), "status": "pending"}
    jobs = sql("SELECT count(*) FROM ai_notes.note_jobs WHERE lesson_id = %s", (event.lesson_id,))
    assert jobs == [(1,)]
    scripted.gate.set()
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    assert scripted.generate_calls == calls + 1
    assert sql("SELECT 1 FROM ai_notes.note_jobs") == []


async def test_regenerate_beyond_the_callers_rate_is_429_with_retry_after(
    app, client, content, people, sql
):
    ai_notes = app.state.ai_notes
    saved = ai_notes.regenerate_limits
    ai_notes.regenerate_limits = RegenerateLimits(per_window=2, window=timedelta(minutes=5))
    try:
        events = [await ready_lesson(client, content, people) for _ in range(3)]
        answers = [
            await client.post(f"/api/v1/notes/{e.lesson_id}/regenerate", headers=people.owner.auth)
            for e in events
        ]
        assert [a.status_code for a in answers] == [202, 202, 429]
        limited = answers[2]
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 300
        # Another caller has a limit of their own.
        other = await client.post(
            f"/api/v1/notes/{events[2].lesson_id}/regenerate", headers=people.admin.auth
        )
        assert other.status_code == 202
    finally:
        ai_notes.regenerate_limits = saved
    await drained(sql)


async def test_a_spent_daily_budget_leaves_notes_pending_until_it_returns(
    app, client, content, people, scripted, sql
):
    ai_notes = app.state.ai_notes
    budget = ai_notes.pipeline.budget
    event = await ready_lesson(client, content, people)  # spends some tokens today
    assert sql("SELECT tokens > 0 FROM ai_notes.token_usage") == [(True,)]
    budget.daily_tokens = 1
    try:
        calls = scripted.generate_calls
        course_id = await content.course(owner_id=people.owner.id)
        waiting = content.published(course_id=course_id, body=LESSONS["Gravity and orbits"])
        event_id = str(uuid.uuid4())
        await content.send(waiting, event_id=event_id)
        await eventually(lambda: handled(sql, event_id))
        # ADMIN: course.published travels on another topic and may not be in yet.
        found = await note(client, people.admin, waiting.lesson_id)
        assert found["status"] == "pending"
        assert scripted.generate_calls == calls
        assert sql(
            "SELECT reason FROM ai_notes.note_jobs WHERE lesson_id = %s", (waiting.lesson_id,)
        ) == [("budget",)]
        # Regenerate is put off the same way: pending, not failed.
        path = f"/api/v1/notes/{event.lesson_id}/regenerate"
        assert (await client.post(path, headers=people.owner.auth)).status_code == 202
        await eventually(
            lambda: (
                sql(
                    "SELECT reason FROM ai_notes.note_jobs WHERE lesson_id = %s", (event.lesson_id,)
                )
                == [("budget",)]
            )
        )
        assert (await note(client, people.admin, event.lesson_id))["status"] == "pending"

        # The budget returns (a new day, or a larger budget): the notes are made.
        budget.daily_tokens = 0
        sql("UPDATE ai_notes.note_jobs SET run_after = now()")
        ai_notes.jobs.wake()
        for lesson_id in (waiting.lesson_id, event.lesson_id):
            await eventually(lambda lid=lesson_id: status_is(client, people.student, lid, "ready"))
    finally:
        budget.daily_tokens = 0


async def test_a_repeated_search_question_is_embedded_once(client, people, scripted):
    params = {"q": "what keeps a satellite in orbit"}
    for _ in range(3):
        answer = await client.get(
            "/api/v1/notes/search", params=params, headers=people.student.auth
        )
        assert answer.status_code == 200, answer.text
    assert scripted.embed_calls == 1


async def test_notes_still_arrive_while_search_and_regenerate_are_flooded(
    client, content, people, scripted, sql
):
    target = await ready_lesson(client, content, people)
    course_id = await content.course(owner_id=people.owner.id)
    stop = asyncio.Event()
    statuses: list[int] = []

    async def search_flood(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            answer = await client.get(
                "/api/v1/notes/search",
                params={"q": f"force mass acceleration question {n}-{i}"},
                headers=people.student.auth,
            )
            statuses.append(answer.status_code)

    async def regenerate_flood() -> None:
        path = f"/api/v1/notes/{target.lesson_id}/regenerate"
        while not stop.is_set():
            answer = await client.post(path, headers=people.owner.auth)
            statuses.append(answer.status_code)
            await asyncio.sleep(0.05)

    flood = [asyncio.create_task(search_flood(n)) for n in range(12)]
    flood.append(asyncio.create_task(regenerate_flood()))
    try:
        events = [
            content.published(course_id=course_id, body=body, title=title)
            for title, body in list(LESSONS.items())[:3]
        ]
        await content.send(*events)
        for event in events:
            await eventually(
                lambda e=event: status_is(client, people.student, e.lesson_id, "ready"),
                timeout=90,
            )
    finally:
        stop.set()
        await asyncio.gather(*flood)
    await drained(sql)
    assert statuses and all(s in (200, 202, 429, 503) for s in statuses), set(statuses)
    assert statuses.count(200) > 0
