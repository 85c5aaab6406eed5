"""Events on the broker become xAPI statements in the real LRS, once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ralph.models.xapi.base.statements import BaseXapiStatement

from edvent_events.catalog.ai_notes import KeyConcept, NotesGenerated
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.catalog.content import CourseCreated, LessonPublished
from edvent_events.catalog.identity import UserRegistered
from edvent_learning_records.domain.statements import (
    ATTEMPTED,
    COMPLETED,
    REGISTERED,
    SHARED,
    TERMINATED,
    UPDATED,
    Mapper,
    statement_id,
)
from edvent_localstack.pytest_plugin import eventually


def attempt_event(
    user_id: uuid.UUID, *, status: str = "completed", score: int = 80
) -> AttemptCompleted:
    ended = datetime.now(UTC)
    return AttemptCompleted(
        attempt_id=uuid.uuid4(),
        exam_id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        user_id=user_id,
        status=status,
        score=score,
        passed=score >= 50,
        started_at=ended - timedelta(minutes=7, seconds=30),
        completed_at=ended,
    )


def valid(statement: dict[str, Any]) -> None:
    BaseXapiStatement.model_validate(statement)


async def test_an_attempt_is_attempted_then_completed_with_its_score(events, lrs, mapper: Mapper):
    user = uuid.uuid4()
    event_id = await events.send(attempt_event(user, score=80))

    async def both() -> bool:
        return len(await lrs.of_agent(mapper.actor(user))) == 2

    await eventually(both, timeout=30)
    stored = {s["verb"]["id"]: s for s in await lrs.of_agent(mapper.actor(user))}
    assert set(stored) == {ATTEMPTED, COMPLETED}
    completed = stored[COMPLETED]
    assert completed["id"] == str(statement_id(event_id))
    assert stored[ATTEMPTED]["id"] == str(statement_id(event_id, "attempted"))
    assert completed["result"]["score"] == {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}
    assert completed["result"]["success"] is True
    assert completed["result"]["duration"] == "PT450.00S"
    assert completed["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": mapper.base_url, "name": str(user)},
    }
    assert completed["context"]["registration"] == stored[ATTEMPTED]["context"]["registration"]
    for statement in stored.values():
        valid(statement)


async def test_an_expired_attempt_is_terminated(events, lrs, mapper: Mapper):
    user = uuid.uuid4()
    await events.send(attempt_event(user, status="expired", score=0))

    async def both() -> bool:
        return len(await lrs.of_agent(mapper.actor(user))) == 2

    await eventually(both, timeout=30)
    verbs = {s["verb"]["id"]: s for s in await lrs.of_agent(mapper.actor(user))}
    assert set(verbs) == {ATTEMPTED, TERMINATED}
    assert verbs[TERMINATED]["result"]["success"] is False
    assert verbs[TERMINATED]["result"]["completion"] is False


async def test_registration_lesson_and_note_reach_the_lrs(events, lrs, mapper: Mapper, sql):
    owner, course, lesson = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    registered = await events.send(
        UserRegistered(user_id=owner, email="enc:v1:x", role="INSTRUCTOR", registered_at=now)
    )
    await events.send(CourseCreated(course_id=course, owner_id=owner, title="T", created_at=now))
    # content.courses and content.lessons are two topics, with no order between them:
    # the lesson names its author once the course is known (else the platform does).
    await eventually(
        lambda: sql("SELECT 1 FROM learning_records.courses WHERE id = %s", (course,)) != [],
        timeout=30,
    )
    shared = await events.send(
        LessonPublished(
            lesson_id=lesson,
            course_id=course,
            title="Fractions",
            order_index=0,
            content_key=f"lessons/{lesson}/a.md",
            content_sha256="0" * 64,
            published_at=now,
        )
    )
    noted = await events.send(
        NotesGenerated(
            lesson_id=lesson,
            course_id=course,
            model="local",
            key_concepts=[KeyConcept(name="numerator", definition="the top")],
            generated_at=now,
        )
    )
    expected = {
        statement_id(registered): REGISTERED,
        statement_id(shared): SHARED,
        statement_id(noted): UPDATED,
    }
    found: dict[uuid.UUID, dict[str, Any]] = {}

    async def all_stored() -> bool:
        for sid in expected:
            if sid not in found and (statement := await lrs.one(sid)) is not None:
                found[sid] = statement
        return len(found) == len(expected)

    await eventually(all_stored, timeout=30)
    for sid, verb in expected.items():
        assert found[sid]["verb"]["id"] == verb
        valid(found[sid])
    # The lesson's author is its course's owner; the note is the platform's.
    assert found[statement_id(shared)]["actor"] == mapper.actor(owner)
    assert found[statement_id(shared)]["object"]["definition"]["name"] == {"en-US": "Fractions"}
    assert found[statement_id(noted)]["actor"] == mapper.platform()
