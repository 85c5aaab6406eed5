"""Authoring exams: the course must be known, questions are checked, publishing
freezes them, and config is validated."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from edvent_events.catalog.content import CourseCreated
from edvent_localstack.pytest_plugin import eventually


async def test_an_exam_for_an_unknown_course_is_409_then_succeeds_once_the_course_arrives(
    client, factory, people, sql
) -> None:
    course_id = uuid.uuid4()
    request = {
        "course_id": str(course_id),
        "title": "Midterm",
        "duration_seconds": 600,
        "passing_score_percent": 60,
    }
    early = await client.post("/api/v1/exams", json=request, headers=people.owner.auth)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert int(early.headers["retry-after"]) >= 1

    await factory.send(
        CourseCreated(
            course_id=course_id,
            owner_id=people.owner.id,
            title="New course",
            created_at=datetime.now(UTC),
        )
    )
    answers: list[int] = []

    async def created() -> bool:
        response = await client.post("/api/v1/exams", json=request, headers=people.owner.auth)
        answers.append(response.status_code)
        return response.status_code == 201

    await eventually(created, interval=0.2)
    assert set(answers[:-1]) <= {409}
    exams = sql("SELECT course_id, title, status FROM assessment.exams")
    assert exams == [(course_id, "Midterm", "draft")]


async def test_the_exam_shape_and_config_defaults(client, factory, people) -> None:
    course = await factory.course(people.owner)
    response = await client.post(
        "/api/v1/exams",
        json={"course_id": course, "title": "  Quiz ", "duration_seconds": 60,
              "passing_score_percent": 0},
        headers=people.owner.auth,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    exam = response.json()
    assert exam["title"] == "Quiz"
    assert exam["status"] == "draft"
    # Every setting with its default (CONTRACT.md "Exam settings").
    assert exam["config"] == {
        "mode": "fixed", "max_attempts": None, "grading": "highest",
        "review": "after_submit", "opens_at": None, "closes_at": None,
        "shuffle_questions": False, "shuffle_options": False,
    }  # fmt: skip
    assert exam["questions"] == []
    assert exam["published_at"] is None


async def test_an_unsupported_config_is_422_with_the_field_path(client, factory, people) -> None:
    course = await factory.course(people.owner)
    base = {"course_id": course, "title": "Q", "duration_seconds": 60, "passing_score_percent": 50}
    for config, loc in (
        # An unknown mode names the config (no model to check its keys against).
        ({"mode": "sometimes"}, ["body", "config"]),
        ({"mode": 7}, ["body", "config"]),
        # Otherwise the path names the mode's model, then the key.
        ({"fixed": True}, ["body", "config", "fixed", "fixed"]),
        ({"mode": "adaptive", "min_items": 0}, ["body", "config", "adaptive", "min_items"]),
        ("fixed", ["body", "config", "fixed"]),
    ):
        response = await client.post(
            "/api/v1/exams", json={**base, "config": config}, headers=people.owner.auth
        )
        assert response.status_code == 422, (config, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert loc in [error["loc"] for error in response.json()["errors"]], response.json()
    for config in ({}, {"mode": "fixed"}):
        response = await client.post(
            "/api/v1/exams", json={**base, "config": config}, headers=people.owner.auth
        )
        assert response.status_code == 201, response.text


async def test_exam_fields_are_checked(client, factory, people) -> None:
    course = await factory.course(people.owner)
    base = {"course_id": course, "title": "Q", "duration_seconds": 60, "passing_score_percent": 50}
    for change in (
        {"duration_seconds": 0},
        {"duration_seconds": -5},
        {"passing_score_percent": 101},
        {"passing_score_percent": -1},
        {"title": "   "},
        {"title": "Quiz\u0000"},
        {"course_id": "not-a-uuid"},
    ):
        response = await client.post(
            "/api/v1/exams", json={**base, **change}, headers=people.owner.auth
        )
        assert response.status_code == 422, (change, response.text)


async def test_malformed_questions_are_422_never_500(client, factory, people) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, questions=[])
    good = factory.single("a")
    for change in (
        {"correct_option_ids": ["z"]},
        {"correct_option_ids": ["a", "b"]},
        {"correct_option_ids": []},
        {"correct_option_ids": ["a", "a"], "kind": "multiple_choice"},
        {"options": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]},
        {"options": [{"id": "a", "text": "x"}]},
        {"options": [{"id": " ", "text": "x"}, {"id": "a", "text": "y"}]},
        {"kind": "essay"},
        {"points": 0},
        {"difficulty": "NaN"},
        {"prompt": ""},
        {"options": "abc"},
        # PostgreSQL text and JSONB cannot hold U+0000 (schemathesis found a 500).
        {"prompt": "Pick\u0000one"},
        {"options": [{"id": "a", "text": "x\u0000"}, {"id": "b", "text": "y"}]},
        {"options": [{"id": "a\u0000", "text": "x"}, {"id": "b", "text": "y"}]},
    ):
        response = await client.post(
            f"/api/v1/exams/{exam['id']}/questions", json={**good, **change},
            headers=people.owner.auth,
        )  # fmt: skip
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_questions_are_appended_in_order_and_frozen_after_publishing(
    client, factory, people, kafka
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, questions=[])
    url = f"/api/v1/exams/{exam['id']}"

    empty = await client.post(f"{url}/publish", headers=people.owner.auth)
    assert empty.status_code == 409, empty.text

    for correct in ("a", "b"):
        response = await client.post(
            f"{url}/questions", json=factory.single(correct), headers=people.owner.auth
        )
        assert response.status_code == 201
    second = await client.post(
        f"{url}/questions", json=factory.multiple("a", "c", points=3), headers=people.owner.auth
    )
    assert second.json()["position"] == 2
    assert second.json()["correct_option_ids"] == ["a", "c"]

    published = await client.post(f"{url}/publish", headers=people.owner.auth)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert [q["position"] for q in published.json()["questions"]] == [0, 1, 2]
    again = await client.post(f"{url}/publish", headers=people.owner.auth)
    assert again.json()["published_at"] == published.json()["published_at"]

    frozen = await client.post(
        f"{url}/questions", json=factory.single("a"), headers=people.owner.auth
    )
    assert frozen.status_code == 409, frozen.text


async def test_correct_answers_are_shown_only_to_the_owner_and_admins(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    for person, shown in (
        (people.owner, True),
        (people.admin, True),
        (people.student, False),
        (people.other, False),
    ):
        response = await client.get(f"/api/v1/exams/{exam['id']}", headers=person.auth)
        assert response.status_code == 200
        (question,) = response.json()["questions"]
        assert (question["correct_option_ids"] is not None) is shown, person.name


async def test_lists_show_students_published_exams_and_instructors_their_drafts(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    draft = await factory.exam(people.owner, course)
    published = await factory.exam(people.owner, course, published=True)

    async def ids(person, **params) -> list[str]:
        response = await client.get("/api/v1/exams", params=params, headers=person.auth)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(people.student, course_id=course) == [published["id"]]
    assert await ids(people.other, course_id=course) == [published["id"]]
    assert await ids(people.owner, course_id=course) == [published["id"], draft["id"]]
    assert await ids(people.admin, course_id=course) == [published["id"], draft["id"]]

    first = await client.get(
        "/api/v1/exams", params={"course_id": course, "limit": 1}, headers=people.owner.auth
    )
    page = first.json()
    assert [item["id"] for item in page["items"]] == [published["id"]]
    assert page["items"][0]["question_count"] == 1
    rest = await client.get(
        "/api/v1/exams",
        params={"course_id": course, "limit": 1, "cursor": page["next_cursor"]},
        headers=people.owner.auth,
    )
    assert [item["id"] for item in rest.json()["items"]] == [draft["id"]]
    assert rest.json()["next_cursor"] is None
    forged = await client.get("/api/v1/exams", params={"cursor": "nope"}, headers=people.owner.auth)
    assert forged.status_code == 422
