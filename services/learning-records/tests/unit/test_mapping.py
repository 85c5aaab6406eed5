"""The event → statement mapping: stable ids, accounts not emails, valid xAPI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from edvent_learning_records.domain.statements import (
    ATTEMPTED,
    COMPLETED,
    STATEMENT_NAMESPACE,
    TERMINATED,
    Mapper,
    statement_id,
    xapi_duration,
    xapi_time,
)

BASE = "https://learn.example.org"
mapper = Mapper(BASE + "/")
NOW = datetime(2026, 12, 7, 17, 0, 0, 123456, tzinfo=UTC)


def attempt(status: str = "completed", score: int = 73, event_id: str | None = None):
    return mapper.attempt(
        event_id=event_id or str(uuid.uuid4()),
        attempt_id=uuid.uuid4(),
        exam_id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        status=status,
        score=score,
        passed=score >= 60,
        started_at=NOW - timedelta(seconds=90, milliseconds=250),
        completed_at=NOW,
    )


def every_kind():
    user, course, lesson = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    yield mapper.registered(event_id="e1", user_id=user, at=NOW)
    yield mapper.lesson_shared(
        event_id="e2", author_id=user, lesson_id=lesson, course_id=course, title="T", at=NOW
    )
    yield mapper.lesson_shared(
        event_id="e3", author_id=None, lesson_id=lesson, course_id=course, title="T", at=NOW
    )
    yield from attempt("completed")
    yield from attempt("expired", score=0)
    yield mapper.note_generated(
        event_id="e4",
        lesson_id=lesson,
        course_id=course,
        model="local",
        key_concepts=["ratio"],
        at=NOW,
    )
    yield mapper.note_generated(
        event_id="e5", lesson_id=lesson, course_id=course, model="m", key_concepts=[], at=NOW
    )
    yield mapper.voiding(event_id="e6", voided=uuid.uuid4(), at=NOW)


@pytest.mark.parametrize("statement", list(every_kind()), ids=lambda s: s.verb.rsplit("/", 1)[1])
def test_every_statement_validates_against_ralphs_xapi_models(statement) -> None:
    parsed = BaseXapiStatement.model_validate(statement.body)
    assert str(parsed.id) == statement.body["id"] == str(statement.id)
    assert statement.body["version"] == "1.0.3"


def test_ids_are_uuidv5_of_the_event_id_so_replays_repeat_them() -> None:
    event_id = str(uuid.uuid4())
    first, second = attempt(event_id=event_id), attempt(event_id=event_id)
    assert first[1].id == uuid.uuid5(STATEMENT_NAMESPACE, event_id) == statement_id(event_id)
    assert first[0].id == uuid.uuid5(STATEMENT_NAMESPACE, f"{event_id}/attempted")
    assert [s.id for s in first] == [s.id for s in second]
    assert first[0].id != first[1].id


def test_the_actor_is_an_account_on_the_platform_never_an_email() -> None:
    started, completed = attempt()
    actor = completed.body["actor"]
    assert actor == {
        "objectType": "Agent",
        "account": {"homePage": BASE, "name": str(completed.user_id)},
    }
    assert "mbox" not in str(completed.body) and "@" not in str(actor)
    assert started.body["actor"] == actor


def test_a_completed_attempt_carries_score_success_and_duration() -> None:
    started, completed = attempt(score=73)
    assert started.verb == ATTEMPTED and "result" not in started.body
    assert completed.verb == COMPLETED
    assert completed.body["result"] == {
        "score": {"scaled": 0.73, "raw": 73, "min": 0, "max": 100},
        "success": True,
        "completion": True,
        "duration": "PT90.25S",
    }
    assert started.body["timestamp"] == "2026-12-07T16:58:29.873Z"
    assert completed.body["timestamp"] == "2026-12-07T17:00:00.123Z"
    assert started.body["context"]["registration"] == completed.body["context"]["registration"]


def test_an_expired_attempt_is_terminated_and_not_complete() -> None:
    _, ended = attempt("expired", score=0)
    assert ended.verb == TERMINATED
    assert ended.body["result"]["completion"] is False
    assert ended.body["result"]["success"] is False


def test_time_and_duration_formats() -> None:
    assert (
        xapi_time(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == "2026-01-02T03:04:05.999Z"
    )
    assert xapi_duration(timedelta(minutes=2)) == "PT120.00S"
    assert xapi_duration(timedelta(seconds=-1)) == "PT0.00S"
