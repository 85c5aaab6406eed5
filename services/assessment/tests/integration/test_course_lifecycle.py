"""The course's state, from content.courses, decides who sees its exams: a draft or
archived course's exams are hidden from students (listed nowhere, 404), unpublishing
hides them again, archiving stops new attempts while what was taken stays readable, and
an owner change moves who manages them (CONTRACT.md "Who may see what", issue 25)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from edvent_events.catalog.content import CourseArchived
from edvent_localstack.pytest_plugin import eventually

CALLERS = ("anonymous", "student", "classmate", "other", "owner", "admin")


def callers(people) -> list[Any]:
    return [None, people.student, people.classmate, people.other, people.owner, people.admin]


async def statuses(client, people, method: str, path: str, **kwargs) -> tuple[int, ...]:
    codes = []
    for caller in callers(people):
        response = await client.request(
            method, path, headers=caller.auth if caller else {}, **kwargs
        )
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        codes.append(response.status_code)
    return tuple(codes)


async def listed(client, person, course_id: str) -> set[str]:
    response = await client.get(f"/api/v1/exams?course_id={course_id}", headers=person.auth)
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


async def test_a_published_exam_of_a_draft_course_is_hidden_from_all_but_its_managers(
    client, factory, people
) -> None:
    course = await factory.course(people.owner, published=False)
    exam = await factory.exam(people.owner, course, published=True)
    path = f"/api/v1/exams/{exam['id']}"
    assert await statuses(client, people, "GET", path) == (401, 404, 404, 404, 200, 200)
    assert await statuses(client, people, "POST", f"{path}/attempts") == (
        401, 404, 404, 404, 403, 403,
    )  # fmt: skip
    for action in ("attempts", "analytics", "grades"):
        assert await statuses(client, people, "GET", f"{path}/{action}") == (
            401, 404, 404, 404, 200, 200,
        ), action  # fmt: skip
    for person in (people.student, people.other):
        assert exam["id"] not in await listed(client, person, course)
        everything = await client.get("/api/v1/exams?limit=100", headers=person.auth)
        assert exam["id"] not in {item["id"] for item in everything.json()["items"]}
    for person in (people.owner, people.admin):
        assert exam["id"] in await listed(client, person, course)


async def test_publishing_the_course_shows_its_exams_and_unpublishing_hides_them_again(
    client, factory, people
) -> None:
    course = await factory.course(people.owner, published=False)
    exam = await factory.exam(people.owner, course, published=True)
    path = f"/api/v1/exams/{exam['id']}"
    await factory.publish_course(course, people.owner)
    assert await statuses(client, people, "GET", path) == (401, 200, 200, 200, 200, 200)
    assert exam["id"] in await listed(client, people.student, course)
    attempt = await factory.start(people.student, exam["id"])

    await factory.unpublish_course(course)
    assert await statuses(client, people, "GET", path) == (401, 404, 404, 404, 200, 200)
    assert exam["id"] not in await listed(client, people.student, course)
    start = await client.post(f"{path}/attempts", headers=people.classmate.auth)
    assert start.status_code == 404
    # The attempt started while it was published stays the student's.
    mine = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert mine.status_code == 200


async def test_an_archived_courses_exams_take_no_new_attempts_but_stay_readable(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    path = f"/api/v1/exams/{exam['id']}"
    attempt = await factory.start(people.student, exam["id"])
    submitted = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": [{"question_id": attempt["questions"][0]["question_id"],
                           "option_ids": ["a"]}]},
        headers=people.student.auth,
    )  # fmt: skip
    assert submitted.status_code == 200

    await factory.archive_course(course)
    again = await client.post(f"{path}/attempts", headers=people.student.auth)
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/course-archived")
    # Nobody else learns the exam exists.
    assert await statuses(client, people, "POST", f"{path}/attempts") == (
        401, 409, 404, 404, 403, 403,
    )  # fmt: skip
    assert await statuses(client, people, "GET", path) == (401, 404, 404, 404, 200, 200)
    assert exam["id"] not in await listed(client, people.student, course)
    # What was taken stays readable to those who could read it.
    mine = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert mine.status_code == 200 and mine.json()["score"] == 100
    grade = await client.get(f"{path}/grades/me", headers=people.student.auth)
    assert grade.status_code == 200 and grade.json()["grade"] == 100
    for action in ("attempts", "analytics", "grades"):
        assert await statuses(client, people, "GET", f"{path}/{action}") == (
            401, 404, 404, 404, 200, 200,
        ), action  # fmt: skip


async def test_an_owner_change_moves_who_manages_the_courses_exams(
    client, factory, people, identity
) -> None:
    old = await identity.instructor(people.admin, "old-owner")
    course = await factory.course(old)
    draft = await factory.exam(old, course)
    path = f"/api/v1/exams/{draft['id']}"
    await factory.change_owner(course, old, people.other)
    assert (await client.get(path, headers=old.auth)).status_code == 404
    question = factory.single("a")
    added = await client.post(f"{path}/questions", json=question, headers=people.other.auth)
    assert added.status_code == 201, added.text
    refused = await client.post(f"{path}/questions", json=question, headers=old.auth)
    assert refused.status_code == 404
    assert draft["id"] in await listed(client, people.other, course)
    assert draft["id"] not in await listed(client, old, course)


async def test_a_student_sees_after_close_answers_once_the_course_is_archived(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, published=True, config={"review": "after_close"}
    )
    attempt = await factory.start(people.student, exam["id"])
    submitted = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": []},
        headers=people.student.auth,
    )  # fmt: skip
    assert submitted.json()["answer_sheet"][0]["correct_option_ids"] is None
    await factory.archive_course(course)
    read = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert read.json()["answer_sheet"][0]["correct_option_ids"] == ["a"]
    assert read.json()["answer_sheet"][0]["correct"] is False


async def test_course_events_for_a_course_never_heard_of_are_skipped(factory, sql) -> None:
    def handled(ce_type: str) -> int:
        return sql("SELECT count(*) FROM assessment.inbox WHERE ce_type = %s", (ce_type,))[0][0]

    archived = "edvent.content.course.archived.v1"
    before = handled(archived)
    unknown = uuid.uuid4()
    await factory.send(CourseArchived(course_id=unknown, archived_at=datetime.now(UTC)))
    # Handled (in the inbox, not dead-lettered) without making a row.
    await eventually(lambda: handled(archived) > before)
    assert sql("SELECT 1 FROM assessment.courses WHERE id = %s", (unknown,)) == []


def test_the_owner_index_exists(sql) -> None:
    rows = sql(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'assessment'"
        " AND indexname = 'ix_courses_owner_id'"
    )
    assert rows and "(owner_id)" in rows[0][0]


async def test_no_attempt_is_born_closed_even_by_the_service_role(
    client, factory, people, service_dsn
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    # Born open, as every start makes one (and the student's reference row with it).
    await factory.start(people.student, exam["id"])
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        for status, score, passed, completed in (
            ("completed", 100, True, "now()"),
            ("expired", 0, False, "now()"),
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="born closed"):
                conn.execute(
                    "INSERT INTO assessment.exam_attempts (exam_id, user_id, status, score,"
                    " passed, deadline, completed_at, answer_sheet)"
                    f" VALUES (%s, %s, %s, %s, %s, now() + interval '1 hour', {completed}, '[]')",
                    (exam["id"], people.student.id, status, score, passed),
                )
