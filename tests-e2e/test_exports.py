"""A person's copy of their data (GET /api/v1/users/me/export) through the gateway, on
the real broker: gathered from every service by events, sealed on Kafka, and never a way
around an exam's `review` setting."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from edvent_events.topics import ASSESSMENT_USER_EXPORTS

from .helpers import PASSWORD, create_exam, open_to_students, register, until

pytestmark = pytest.mark.e2e


async def export_of(gateway: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    """The first answer, then the finished export once every part is in."""
    first = await gateway.get("/api/v1/users/me/export", headers=auth)
    assert first.status_code in (200, 202), first.text
    if first.status_code == 202:
        assert int(first.headers["Retry-After"]) >= 1
        body = first.json()
        assert body["status"] == "pending"
        assert set(body["parts_expected"]) == {"content", "assessment", "ai-notes"}
    done = await until(
        lambda: gateway.get("/api/v1/users/me/export", headers=auth),
        lambda r: r.status_code == 200,
        timeout=60,
    )
    assert done.status_code == 200, done.text
    assert done.headers["Cache-Control"] == "no-store"
    assert done.headers["Content-Disposition"].startswith("attachment; filename=")
    return done


async def test_a_student_downloads_account_attempts_and_grades_without_the_hidden_answers(
    gateway, platform
):
    instructor = await register(gateway, role="INSTRUCTOR", prefix="export-teacher")
    student = await register(gateway, prefix="export-student")
    course = await gateway.post(
        "/api/v1/courses", json={"title": "Exported course"}, headers=instructor.auth
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    exam_id = await create_exam(gateway, instructor.auth, course_id, config={"review": "never"})
    await open_to_students(gateway, instructor.auth, course_id, exam_id, student.auth)
    started = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
    assert started.status_code == 201, started.text
    attempt = started.json()
    answers = [{"question_id": attempt["questions"][0]["question_id"], "option_ids": ["a"]}]
    submitted = await gateway.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers},
        headers=student.auth,
    )  # fmt: skip
    assert submitted.status_code == 200, submitted.text

    answer = await export_of(gateway, student.auth)
    document: dict[str, Any] = answer.json()
    assert document["format"] == "edvent.user-export.v1"
    assert document["account"]["id"] == student.id
    assert document["account"]["email"] == student.email
    assert document["account"]["full_name"] == "export-student"
    assert "password_hash" not in document["account"]
    assert len(document["sessions"]) >= 1
    assert set(document["sources"]) == {"identity", "content", "assessment", "ai-notes"}
    [exported] = document["attempts"]
    assert (exported["id"], exported["exam_id"], exported["score"]) == (attempt["id"], exam_id, 0)
    [entry] = exported["answer_sheet"]
    assert entry["prompt"] == "2 + 2?" and entry["answer"] == ["a"]
    # review "never": the export shows what GET /attempts/{id} shows the student.
    assert (entry["correct_option_ids"], entry["correct"]) == (None, None)
    [grade] = document["grades"]
    assert (grade["exam_id"], grade["attempts"], grade["grade"], grade["passed"]) == (
        exam_id, 1, 0, False,
    )  # fmt: skip
    assert document["courses"] == []

    # Served again from the same export while it lasts: no second request.
    again = await gateway.get("/api/v1/users/me/export", headers=student.auth)
    assert again.status_code == 200 and again.json()["export_id"] == document["export_id"]

    # The instructor's copy has the course; nobody gets another's copy.
    teacher = (await export_of(gateway, instructor.auth)).json()
    assert teacher["account"]["id"] == instructor.id
    assert [c["id"] for c in teacher["courses"]] == [course_id]
    assert teacher["attempts"] == []
    assert (await gateway.get("/api/v1/users/me/export")).status_code == 401

    # On Kafka, the data team sees that an export happened, never what it held.
    consumer = AIOKafkaConsumer(
        ASSESSMENT_USER_EXPORTS, **platform.kafka.client_kwargs(),
        group_id=f"data-team.{secrets.token_hex(3)}", auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    try:
        values = []
        for _ in range(50):
            for part in (await consumer.getmany(timeout_ms=200)).values():
                values.extend(r.value for r in part if r.key == student.id.encode())
            if values:
                break
    finally:
        await consumer.stop()
    assert values, "the student's sealed part is on assessment.user-exports"
    for value in values:
        assert b"2 + 2?" not in value and attempt["id"].encode() not in value


async def test_an_erased_account_has_no_export(gateway):
    student = await register(gateway, prefix="export-erased")
    await export_of(gateway, student.auth)
    erased = await gateway.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=student.auth
    )
    assert erased.status_code == 204, erased.text
    gone = await gateway.get("/api/v1/users/me/export", headers=student.auth)
    assert gone.status_code == 401, gone.text
