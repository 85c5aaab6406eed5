"""assessment through the gateway: a course made in content reaches assessment as an
event, its owner writes an exam, a student takes it, the analytics follow."""

from __future__ import annotations

import pytest

from .helpers import create_exam, open_to_students, register, until

pytestmark = pytest.mark.e2e


async def test_an_exam_is_written_taken_and_analysed_through_the_gateway(gateway):
    instructor = (await register(gateway, role="INSTRUCTOR", prefix="assessment")).auth
    student = (await register(gateway, prefix="assessment")).auth
    course = await gateway.post("/api/v1/courses", json={"title": "Exams"}, headers=instructor)
    assert course.status_code == 201, course.text
    exam_id = await create_exam(gateway, instructor, course.json()["id"], duration_seconds=300)
    await open_to_students(gateway, instructor, course.json()["id"], exam_id, student)

    attempt = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student)
    assert attempt.status_code == 201, attempt.text
    answers = [{"question_id": attempt.json()["questions"][0]["question_id"], "option_ids": ["b"]}]
    done = await gateway.post(
        f"/api/v1/attempts/{attempt.json()['id']}/submit", json={"answers": answers},
        headers=student,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["score"], done.json()["passed"]) == (
        "completed", 100, True,
    )  # fmt: skip
    analytics = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=instructor),
        lambda r: r.status_code == 200 and r.json()["attempts_completed"] == 1,
    )
    assert analytics.json()["average_score"] == 100
    assert analytics.json()["questions"][0]["correct_rate"] == 1.0
    document = await gateway.get("/api/v1/attempts/openapi.json")
    assert document.status_code == 200
