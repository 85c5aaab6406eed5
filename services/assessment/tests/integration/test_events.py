"""exam.published and attempt.completed reach their topics with the contract's
fields, through the outbox, read by the CloudEvents SDK."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from edvent_events.topics import ASSESSMENT_ATTEMPTS, ASSESSMENT_EXAMS
from edvent_localstack.pytest_plugin import read_topic

EXAM_PUBLISHED = "edvent.assessment.exam.published.v1"
ATTEMPT_COMPLETED = "edvent.assessment.attempt.completed.v1"


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


def same_time(text: str, other: str) -> bool:
    return datetime.fromisoformat(text) == datetime.fromisoformat(other)


def check_envelope(event: Any, *, subject: str, ce_type: str) -> None:
    assert event.get_specversion() == "1.0"
    assert event.get_source() == "/services/assessment"
    assert event.get_type() == ce_type
    assert event.get_subject() == subject
    assert event.get_datacontenttype() == "application/json"
    assert event.get_id()


async def test_exam_published_once_with_the_contract_fields(client, factory, people, kafka) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, questions=[factory.single("a"), factory.single("b")], published=True
    )
    again = await client.post(f"/api/v1/exams/{exam['id']}/publish", headers=people.owner.auth)
    assert again.status_code == 200
    (event,) = await cloud_events(kafka, ASSESSMENT_EXAMS, exam["id"], until=1)
    check_envelope(event, subject=exam["id"], ce_type=EXAM_PUBLISHED)
    data = event.get_data()
    assert set(data) == {"exam_id", "course_id", "title", "question_count", "published_at"}
    assert (data["exam_id"], data["course_id"], data["title"]) == (exam["id"], course, "An exam")
    assert data["question_count"] == 2
    assert same_time(data["published_at"], exam["published_at"])


async def test_attempt_completed_for_submitted_and_expired_attempts(
    client, factory, people, kafka, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True, passing_score_percent=100)
    submitted = await factory.start(people.student, exam["id"])
    question_id = submitted["questions"][0]["question_id"]
    done = await client.post(
        f"/api/v1/attempts/{submitted['id']}/submit",
        json={"answers": [{"question_id": question_id, "option_ids": ["a"]}]},
        headers=people.student.auth,
    )
    done = done.json()
    late = await factory.start(people.classmate, exam["id"])
    sql(
        "UPDATE assessment.exam_attempts SET started_at = now() - interval '1 hour',"
        " deadline = now() - interval '1 minute' WHERE id = %s",
        (late["id"],),
    )
    refused = await client.post(
        f"/api/v1/attempts/{late['id']}/submit", json={"answers": []}, headers=people.classmate.auth
    )
    assert refused.status_code == 409
    expired = (await client.get(f"/api/v1/attempts/{late['id']}", headers=people.owner.auth)).json()

    for attempt, student, status, score, passed in (
        (done, people.student, "completed", 100, True),
        (expired, people.classmate, "expired", 0, False),
    ):
        (event,) = await cloud_events(kafka, ASSESSMENT_ATTEMPTS, attempt["id"], until=1)
        check_envelope(event, subject=attempt["id"], ce_type=ATTEMPT_COMPLETED)
        data = event.get_data()
        assert set(data) == {"attempt_id", "exam_id", "course_id", "user_id", "status",
                             "score", "passed", "started_at", "completed_at",
                             "ability", "standard_error"}  # fmt: skip
        # Fixed exams measure no ability: the optional fields are null.
        assert (data["ability"], data["standard_error"]) == (None, None)
        assert (data["attempt_id"], data["exam_id"], data["course_id"]) == (
            attempt["id"], exam["id"], course,
        )  # fmt: skip
        assert data["user_id"] == str(student.id)
        assert (data["status"], data["score"], data["passed"]) == (status, score, passed)
        assert same_time(data["started_at"], attempt["started_at"])
        assert same_time(data["completed_at"], attempt["completed_at"])
