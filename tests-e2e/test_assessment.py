"""assessment through the gateway: a course made in content reaches assessment as an
event, its owner writes an exam, a student takes it, the analytics follow."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"


async def login(gateway, email: str, password: str) -> dict[str, str]:
    answer = await gateway.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def account(gateway, *, role: str | None = None) -> dict[str, str]:
    email = f"assessment.{secrets.token_hex(4)}@example.com"
    user = await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "A"}
    )
    assert user.status_code == 201, user.text
    if role is not None:
        admin = await login(gateway, ADMIN_EMAIL, ADMIN_PASSWORD)
        changed = await gateway.patch(
            f"/api/v1/users/{user.json()['id']}", json={"role": role}, headers=admin
        )
        assert changed.status_code == 200, changed.text
    return await login(gateway, email, PASSWORD)


async def until(call, ok, *, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        response = await call()
        if ok(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_an_exam_is_written_taken_and_analysed_through_the_gateway(gateway):
    instructor = await account(gateway, role="INSTRUCTOR")
    student = await account(gateway)
    course = await gateway.post("/api/v1/courses", json={"title": "Exams"}, headers=instructor)
    assert course.status_code == 201, course.text
    body = {"course_id": course.json()["id"], "title": "Quiz", "duration_seconds": 300,
            "passing_score_percent": 50}  # fmt: skip
    # 409 with Retry-After until content's CourseCreated reached assessment.
    exam = await until(
        lambda: gateway.post("/api/v1/exams", json=body, headers=instructor),
        lambda r: r.status_code != 409,
    )
    assert exam.status_code == 201, exam.text
    exam_id = exam.json()["id"]
    question = {"prompt": "2 + 2?", "kind": "single_choice", "correct_option_ids": ["b"],
                "options": [{"id": "a", "text": "3"}, {"id": "b", "text": "4"}]}  # fmt: skip
    added = await gateway.post(
        f"/api/v1/exams/{exam_id}/questions", json=question, headers=instructor
    )
    assert added.status_code == 201, added.text
    published = await gateway.post(f"/api/v1/exams/{exam_id}/publish", headers=instructor)
    assert published.status_code == 200, published.text

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
