"""A student's view of a lesson's notes, and of the notes naming a concept, is answered
from memory, never staler than the database, and never given to any other view
(edvent_platform.view_cache)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edvent_events.catalog.content import LessonUnpublished
from edvent_localstack.pytest_plugin import eventually

from .test_access import first_concept, planted_lesson
from .test_pipeline import note

pytestmark = pytest.mark.integration


def _behind_the_triggers_back(sql: Any, summary: str) -> None:
    sql("ALTER TABLE ai_notes.ai_notes DISABLE TRIGGER ai_notes_bump_view_version")
    try:
        sql("UPDATE ai_notes.ai_notes SET summary_markdown = %s", (summary,))
    finally:
        sql("ALTER TABLE ai_notes.ai_notes ENABLE TRIGGER ai_notes_bump_view_version")


async def _concept_summaries(client: Any, person: Any, concept: str) -> list[str]:
    answer = await client.get("/api/v1/notes", params={"concept": concept}, headers=person.auth)
    assert answer.status_code == 200, answer.text
    return [item["summary_markdown"] for item in answer.json()["items"]]


async def test_students_share_the_notes_from_memory_and_no_one_else_gets_them(
    client, content, people, sql
) -> None:
    event = await planted_lesson(client, content, people, published=True)
    concept = await first_concept(client, people.student, event.lesson_id)
    first = (await note(client, people.student, event.lesson_id))["summary_markdown"]
    assert await _concept_summaries(client, people.student, concept) == [first]
    # Changed where the cache cannot see it: students are answered from memory, the
    # owner and ADMIN afresh.
    _behind_the_triggers_back(sql, "Changed unseen")
    assert (await note(client, people.student, event.lesson_id))["summary_markdown"] == first
    assert await _concept_summaries(client, people.student, concept) == [first]
    for person in (people.owner, people.admin):
        assert (await note(client, person, event.lesson_id))["summary_markdown"] == "Changed unseen"
        assert await _concept_summaries(client, person, concept) == ["Changed unseen"]
    answer = await client.get(f"/api/v1/notes/{event.lesson_id}")
    assert answer.status_code == 401


async def test_an_unpublished_lesson_is_gone_from_the_students_view_at_once(
    client, content, people
) -> None:
    event = await planted_lesson(client, content, people, published=True)
    assert await note(client, people.student, event.lesson_id) is not None
    await content.send(
        LessonUnpublished(
            lesson_id=event.lesson_id, course_id=event.course_id, unpublished_at=datetime.now(UTC)
        )
    )
    # Once ai-notes has heard of it (the only wait), never served from memory again.
    await eventually(lambda: _hidden(client, people.student, event.lesson_id))
    for _ in range(3):
        assert await note(client, people.student, event.lesson_id) is None
    assert await note(client, people.owner, event.lesson_id) is not None


async def _hidden(client: Any, person: Any, lesson_id: Any) -> bool:
    return await note(client, person, lesson_id) is None
