"""lesson.published on the real broker → the pipeline → a stored note and notes.generated."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from edvent_ai_notes.adapters.providers import MalformedAnswer, ProviderUnavailable
from edvent_events.topics import AI_NOTES_NOTES, CONTENT_LESSONS, dlq_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .physics import LESSONS

pytestmark = pytest.mark.integration

BODY = LESSONS["Newton's laws of motion"]
NEW_BODY = LESSONS["Gravity and orbits"]


async def note(client: Any, person: Any, lesson_id: Any) -> Any:
    answer = await client.get(f"/api/v1/notes/{lesson_id}", headers=person.auth)
    return answer.json() if answer.status_code == 200 else None


async def dead_letter(kafka: Any, lesson_id: Any) -> Any:
    """The lesson's event on ai-notes' dead-letter topic, once it is there."""
    [dead] = await read_topic(
        kafka.admin,
        dlq_topic(CONTENT_LESSONS, "ai-notes"),
        expected=1,
        where=lambda r: r.key == str(lesson_id).encode(),
    )
    return dead


async def status_is(client: Any, person: Any, lesson_id: Any, status: str) -> bool:
    found = await note(client, person, lesson_id)
    return found is not None and found["status"] == status


async def test_a_published_lesson_becomes_a_ready_note_and_a_notes_generated_event(
    client, content, people, kafka, sql, scripted
):
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY, title="Newton")
    await content.send(event)

    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    found = await note(client, people.student, event.lesson_id)
    assert set(found) >= {
        "lesson_id", "status", "summary_markdown", "key_concepts", "generated_at", "model"
    }  # fmt: skip
    for heading in ("Inertia", "Force and acceleration", "Action and reaction"):
        assert heading in found["summary_markdown"]
    assert found["key_concepts"] and all(
        set(c) == {"name", "definition"} for c in found["key_concepts"]
    )
    assert found["model"]  # the provider's model name (`local-...` for the local one)
    chunks = sql(
        "SELECT heading_path, content_sha256 FROM ai_notes.lesson_chunks c"
        " JOIN ai_notes.ai_notes n USING (lesson_id) WHERE lesson_id = %s ORDER BY position",
        (event.lesson_id,),
    )
    assert [tuple(path) for path, _ in chunks][-1] == (
        "Newton's laws of motion",
        "Action and reaction",
    )
    assert {sha for _, sha in chunks} == {event.content_sha256}

    [record] = await read_topic(
        kafka.admin,
        AI_NOTES_NOTES,
        expected=1,
        where=lambda r: r.key == str(event.lesson_id).encode(),
    )
    generated = ce_kafka.from_binary(
        ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
        JSONFormat(),
    )
    assert generated.get_type() == "edvent.ai_notes.notes.generated.v1"
    assert generated.get_source() == "/services/ai-notes"
    assert generated.get_subject() == str(event.lesson_id)
    data = generated.get_data()
    assert set(data) == {"lesson_id", "course_id", "model", "key_concepts", "generated_at"}
    assert data["course_id"] == str(course_id)
    assert data["key_concepts"] == found["key_concepts"]
    assert data["model"] == found["model"]


async def test_redelivery_and_the_same_content_again_do_no_work(
    client, content, people, sql, scripted
):
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    event_id = str(uuid.uuid4())
    await content.send(event, event_id=event_id)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    assert scripted.generate_calls == 1
    embeds = scripted.embed_calls

    # The same event again (a redelivery), then the same body published again.
    again = event.model_copy(update={"published_at": event.published_at})
    await content.send(event, event_id=event_id)
    await content.send(again, event_id=(marker := str(uuid.uuid4())))
    await eventually(
        lambda: bool(sql("SELECT 1 FROM ai_notes.inbox WHERE event_id = %s", (marker,)))
    )
    assert (scripted.generate_calls, scripted.embed_calls) == (1, embeds)
    assert await status_is(client, people.student, event.lesson_id, "ready")


async def test_new_content_replaces_the_chunks_and_the_note_together(
    client, content, people, sql, scripted
):
    course_id = await content.course(owner_id=people.owner.id)
    first = content.published(course_id=course_id, body=BODY)
    await content.send(first)
    await eventually(lambda: status_is(client, people.student, first.lesson_id, "ready"))
    old = await note(client, people.student, first.lesson_id)

    # While the new body's notes are being made, readers keep the old notes, ready.
    scripted.gate = asyncio.Event()
    second = content.published(course_id=course_id, body=NEW_BODY, lesson_id=first.lesson_id)
    await content.send(second)
    await eventually(lambda: scripted.generate_calls == 2)
    assert await note(client, people.student, first.lesson_id) == old
    scripted.gate.set()
    await eventually(
        lambda: bool(
            sql(
                "SELECT 1 FROM ai_notes.ai_notes WHERE lesson_id = %s AND status = 'ready'"
                " AND content_sha256 = %s",
                (first.lesson_id, second.content_sha256),
            )
        )
    )
    found = await note(client, people.student, first.lesson_id)
    assert "Orbits" in found["summary_markdown"] and "Inertia" not in found["summary_markdown"]
    paths = sql(
        "SELECT DISTINCT heading_path[1] FROM ai_notes.lesson_chunks WHERE lesson_id = %s",
        (first.lesson_id,),
    )
    assert paths == [("Gravity and orbits",)]

    # The first publication arriving again late (a redriven dead letter, say) is history.
    await content.send(first, event_id=(marker := str(uuid.uuid4())))
    await eventually(
        lambda: bool(sql("SELECT 1 FROM ai_notes.inbox WHERE event_id = %s", (marker,)))
    )
    assert await note(client, people.student, first.lesson_id) == found
    assert scripted.generate_calls == 2


async def test_a_provider_that_keeps_failing_leaves_the_note_failed_and_dead_letters_the_event(
    client, content, people, kafka, scripted, sql
):
    scripted.fail_always = ProviderUnavailable("the model server answers 503")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)

    dead = await dead_letter(kafka, event.lesson_id)
    assert dict(dead.headers)["x-attempts"] == b"2"
    assert b"503" in dict(dead.headers)["x-error"]
    assert scripted.generate_calls == 2
    found = await note(client, people.owner, event.lesson_id)
    assert found["status"] == "failed"
    assert "the model server answers 503" in found["failure_reason"]
    assert found["summary_markdown"] is None
    assert (
        sql("SELECT 1 FROM ai_notes.lesson_chunks WHERE lesson_id = %s", (event.lesson_id,)) == []
    )


async def test_a_malformed_answer_is_retried_and_then_fails_without_being_stored(
    client, content, people, kafka, scripted, sql
):
    scripted.fail_always = MalformedAnswer("key_concepts.0.definition: Field required")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)

    await dead_letter(kafka, event.lesson_id)
    assert scripted.generate_calls == 2
    found = await note(client, people.owner, event.lesson_id)
    assert found["status"] == "failed"
    assert "not valid notes" in found["failure_reason"]
    assert (found["summary_markdown"], found["key_concepts"]) == (None, [])


async def test_a_malformed_answer_then_a_good_one_stores_the_good_one(
    client, content, people, scripted
):
    scripted.fail_next = [MalformedAnswer("not JSON")]
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "ready"))
    assert scripted.generate_calls == 2


async def test_a_body_missing_from_storage_marks_the_note_failed_with_that_reason(
    client, content, people, scripted
):
    course_id = await content.course(owner_id=people.owner.id)
    lesson_id = uuid.uuid4()
    event = content.published(
        course_id=course_id,
        lesson_id=lesson_id,
        body=BODY,
        key=f"courses/{course_id}/lessons/{lesson_id}/missing.md",
    )
    await content.send(event)
    await eventually(lambda: status_is(client, people.student, event.lesson_id, "failed"))
    found = await note(client, people.owner, event.lesson_id)
    assert "missing from storage" in found["failure_reason"]
    assert scripted.generate_calls == 0


async def handled(sql: Any, event_id: str) -> bool:
    """Whether the consumer settled the event (its inbox row), not just failed once."""
    return bool(sql("SELECT 1 FROM ai_notes.inbox WHERE event_id = %s", (event_id,)))


async def test_a_lesson_the_local_provider_cannot_summarise_fails_at_once_without_retries(
    client, content, people, scripted, sql
):
    # One long run of a letter: no sentences, so no summary, and the same every time.
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body="a" * 64 * 1024)
    event_id = str(uuid.uuid4())
    await content.send(event, event_id=event_id)

    await eventually(lambda: handled(sql, event_id))
    assert scripted.generate_calls == 1
    found = await note(client, people.owner, event.lesson_id)
    assert found["status"] == "failed"
    assert "cannot be summarised" in found["failure_reason"]
    assert sql("SELECT 1 FROM ai_notes.dead_letters WHERE event_id = %s", (event_id,)) == []


async def test_a_body_over_the_size_limit_is_refused_before_any_work(
    app, client, content, people, scripted, sql
):
    limit = app.state.ai_notes.settings.max_lesson_bytes
    paragraph = BODY.split("\n\n")[1] + "\n\n"
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(
        course_id=course_id, body=paragraph * (limit // len(paragraph.encode()) + 1)
    )
    event_id = str(uuid.uuid4())
    await content.send(event, event_id=event_id)

    await eventually(lambda: handled(sql, event_id))
    assert (scripted.embed_calls, scripted.generate_calls) == (0, 0)
    found = await note(client, people.owner, event.lesson_id)
    assert found["status"] == "failed"
    assert f"at most {limit}" in found["failure_reason"]
