"""Exam settings through the gateway (CONTRACT.md "Exam settings"): an instructor sets
two attempts and `review: never`; a student takes both, the third is refused, the grades
follow `grading`, and the answers stay hidden from the student while the owner sees
them."""

from __future__ import annotations

import pytest

from .helpers import create_exam, register, until

pytestmark = pytest.mark.e2e

PROBLEMS = "https://edvent.example/problems/"


async def test_two_attempts_a_third_refused_grades_and_review_hiding_the_answers(gateway):
    instructor = (await register(gateway, role="INSTRUCTOR", prefix="settings")).auth
    student = await register(gateway, prefix="settings")
    course = await gateway.post("/api/v1/courses", json={"title": "Settings"}, headers=instructor)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    published = await gateway.post(f"/api/v1/courses/{course_id}/publish", headers=instructor)
    assert published.status_code == 200, published.text
    exam_id = await create_exam(
        gateway,
        instructor,
        course_id,
        config={"max_attempts": 2, "grading": "highest", "review": "never"},
    )
    # The course's publication reaches assessment as an event: 404 until it has.
    exam = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}", headers=student.auth),
        lambda r: r.status_code == 200,
    )
    assert exam.status_code == 200, exam.text
    assert exam.json()["config"]["max_attempts"] == 2
    assert exam.json()["questions"][0]["correct_option_ids"] is None

    scores = []
    attempt_ids = []
    for pick in ("a", "b"):  # wrong, then right ("b" is right)
        started = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
        assert started.status_code == 201, started.text
        attempt = started.json()
        attempt_ids.append(attempt["id"])
        answers = [{"question_id": attempt["questions"][0]["question_id"], "option_ids": [pick]}]
        done = await gateway.post(
            f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers},
            headers=student.auth,
        )  # fmt: skip
        assert done.status_code == 200, done.text
        scores.append(done.json()["score"])
        entry = done.json()["answer_sheet"][0]
        assert (entry["correct_option_ids"], entry["correct"]) == (None, None)
        assert entry["answer"] == [pick]
    assert scores == [0, 100]

    third = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
    assert third.status_code == 409, third.text
    assert third.headers["content-type"] == "application/problem+json"
    assert third.json()["type"] == PROBLEMS + "max-attempts-reached"

    me = await gateway.get(f"/api/v1/exams/{exam_id}/grades/me", headers=student.auth)
    assert me.status_code == 200, me.text
    assert me.json() == {"attempts": 2, "attempts_left": 0, "grade": 100, "passed": True}
    grades = await gateway.get(f"/api/v1/exams/{exam_id}/grades", headers=instructor)
    assert grades.status_code == 200, grades.text
    (row,) = grades.json()["items"]
    assert (row["user_id"], row["attempts"], row["grade"], row["passed"]) == (
        student.id, 2, 100, True,
    )  # fmt: skip
    refused = await gateway.get(f"/api/v1/exams/{exam_id}/grades", headers=student.auth)
    assert refused.status_code == 403

    # Review `never`: the student's reads and lists hide the answers; the owner's do not.
    for path in (f"/api/v1/attempts/{attempt_ids[1]}", f"/api/v1/attempts?exam_id={exam_id}"):
        read = await gateway.get(path, headers=student.auth)
        assert read.status_code == 200, read.text
        items = read.json().get("items", [read.json()])
        for item in items:
            assert item["answer_sheet"][0]["correct_option_ids"] is None
            assert item["answer_sheet"][0]["correct"] is None
    owner_view = await gateway.get(f"/api/v1/attempts/{attempt_ids[1]}", headers=instructor)
    assert owner_view.json()["answer_sheet"][0]["correct_option_ids"] == ["b"]
    assert owner_view.json()["answer_sheet"][0]["correct"] is True

    analytics = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=instructor),
        lambda r: r.status_code == 200 and r.json()["attempts_completed"] == 2,
    )
    body = analytics.json()
    assert body["attempts_completed"] == 2, body
    assert body["questions"][0]["option_counts"] == {"a": 1, "b": 1}
    assert [b["count"] for b in body["score_histogram"]] == [1] + [0] * 8 + [1]
    # One question: no rest score to correlate with, and no alpha.
    assert body["questions"][0]["discrimination"] is None
    assert body["reliability_alpha"] is None
