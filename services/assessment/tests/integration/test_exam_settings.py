"""Exam settings through the API (CONTRACT.md "Exam settings"): every key's 422 at its
path, attempts allowed (409 with its own type, under racing starts, expired ones
counting), the window, review, shuffling, and grades."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from edvent_assessment.domain.sheets import SheetItem
from edvent_assessment.domain.shuffle import arrange, shuffle_options
from edvent_assessment.sweeper import sweep

from .test_adaptive_attempts import adaptive_exam

PROBLEMS = "https://edvent.example/problems/"


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def submit(client, person, attempt, picks: list[str | None]) -> dict:
    body = {
        "answers": [
            {"question_id": q["question_id"], "option_ids": [pick]}
            for q, pick in zip(attempt["questions"], picks, strict=True)
            if pick is not None
        ]
    }
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=body, headers=person.auth
    )
    assert response.status_code == 200, response.text
    return response.json()


def by_question(attempt: dict, exam: dict) -> list[str | None]:
    """Right answers in the attempt's own order ("a" is right for every question)."""
    return ["a" for _ in attempt["questions"]]


@pytest.mark.parametrize(
    ("config", "loc"),
    [
        ({"max_attempts": 0}, ["fixed", "max_attempts"]),
        ({"max_attempts": "2"}, ["fixed", "max_attempts"]),
        ({"grading": "best"}, ["fixed", "grading"]),
        ({"review": "later"}, ["fixed", "review"]),
        ({"opens_at": "2026-12-01T08:00:00"}, ["fixed", "opens_at"]),
        ({"opens_at": "2026-12-02T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"},
         ["fixed", "closes_at"]),
        ({"shuffle_questions": "yes"}, ["fixed", "shuffle_questions"]),
        ({"shuffle_options": 1}, ["fixed", "shuffle_options"]),
        ({"mode": "adaptive", "shuffle_questions": True}, ["adaptive", "shuffle_questions"]),
        ({"mode": "adaptive", "max_attempts": -1}, ["adaptive", "max_attempts"]),
    ],
)  # fmt: skip
async def test_a_bad_setting_is_422_at_its_path(client, factory, people, config, loc) -> None:
    course = await factory.course(people.owner)
    response = await client.post(
        "/api/v1/exams",
        json={"course_id": course, "title": "T", "duration_seconds": 60,
              "passing_score_percent": 50, "config": config},
        headers=people.owner.auth,
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][:4] == ["body", "config", *loc]


async def test_settings_are_stored_and_shown_with_their_defaults(client, factory, people) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, config={"max_attempts": 2})
    assert exam["config"] == {
        "mode": "fixed", "max_attempts": 2, "grading": "highest", "review": "after_submit",
        "opens_at": None, "closes_at": None, "shuffle_questions": False,
        "shuffle_options": False,
    }  # fmt: skip


async def test_a_start_past_max_attempts_is_409_and_expired_attempts_count(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True, config={"max_attempts": 2})
    first = await factory.start(people.student, exam["id"])
    await submit(client, people.student, first, ["b"])
    second = await factory.start(people.student, exam["id"])
    # Expired by the deadline, not submitted: it still counts.
    sql(
        "UPDATE assessment.exam_attempts SET started_at = now() - interval '1 hour',"
        " deadline = now() - interval '1 minute' WHERE id = %s",
        (second["id"],),
    )
    third = await client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
    assert third.status_code == 409, third.text
    problem = third.json()
    assert problem["type"] == PROBLEMS + "max-attempts-reached"
    assert problem["max_attempts"] == 2
    me = await client.get(f"/api/v1/exams/{exam['id']}/grades/me", headers=people.student.auth)
    assert me.json()["attempts"] == 2 and me.json()["attempts_left"] == 0
    # Another student has their own two.
    assert (await factory.start(people.classmate, exam["id"]))["id"]


async def test_racing_starts_cannot_both_take_the_last_attempt(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True, config={"max_attempts": 2})
    first = await factory.start(people.student, exam["id"])
    await submit(client, people.student, first, ["a"])
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
            for _ in range(6)
        )
    )
    # One took the last attempt; the others were given that same open attempt.
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    count = sql("SELECT count(*) FROM assessment.exam_attempts WHERE exam_id = %s", (exam["id"],))
    assert count == [(2,)]
    await submit(client, people.student, responses[0].json(), ["a"])
    again = await asyncio.gather(
        *(
            client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
            for _ in range(3)
        )
    )
    assert [r.status_code for r in again] == [409] * 3


async def test_no_start_outside_the_window(client, factory, people) -> None:
    course = await factory.course(people.owner)
    early = await factory.exam(
        people.owner, course, published=True, config={"opens_at": iso(timedelta(hours=1))}
    )
    response = await client.post(
        f"/api/v1/exams/{early['id']}/attempts", headers=people.student.auth
    )
    assert response.status_code == 409
    assert response.json()["type"] == PROBLEMS + "exam-not-open-yet"
    late = await factory.exam(
        people.owner,
        course,
        published=True,
        config={"opens_at": iso(-timedelta(hours=2)), "closes_at": iso(-timedelta(hours=1))},
    )
    response = await client.post(
        f"/api/v1/exams/{late['id']}/attempts", headers=people.student.auth
    )
    assert response.status_code == 409
    assert response.json()["type"] == PROBLEMS + "exam-closed"


async def test_the_deadline_is_never_after_closes_at_and_the_sweeper_closes_there(
    app, client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    closes_at = datetime.now(UTC) + timedelta(seconds=3)
    exam = await factory.exam(
        people.owner,
        course,
        published=True,
        duration_seconds=3600,
        config={"closes_at": closes_at.isoformat()},
    )
    attempt = await factory.start(people.student, exam["id"])
    assert datetime.fromisoformat(attempt["deadline"]) == closes_at
    sessions = app.state.runtime.sessions
    deadline = asyncio.get_running_loop().time() + 30
    while await sweep(sessions, grace=timedelta(0), batch=10) == 0:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)
    (row,) = sql(
        "SELECT status, completed_at >= %s FROM assessment.exam_attempts WHERE id = %s",
        (closes_at, attempt["id"]),
    )
    assert row == ("expired", True)


@pytest.mark.parametrize("review", ["after_close", "never"])
async def test_review_hides_the_answers_from_the_student_everywhere(
    client, factory, people, sql, review
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True, config={"review": review})
    attempt = await factory.start(people.student, exam["id"])
    done = await submit(client, people.student, attempt, ["a"])
    assert (done["score"], done["passed"]) == (100, True)
    reads = [
        done,
        (await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)).json(),
        (await client.get("/api/v1/attempts", headers=people.student.auth)).json()["items"][0],
    ]
    for read in reads:
        assert read["score"] == 100
        for entry in read["answer_sheet"]:
            assert entry["correct_option_ids"] is None and entry["correct"] is None
            assert entry["answer"] == ["a"]  # their own answers they may see
    for manager in (people.owner, people.admin):
        read = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=manager.auth)
        assert read.json()["answer_sheet"][0]["correct_option_ids"] == ["a"]
        listed = await client.get(f"/api/v1/exams/{exam['id']}/attempts", headers=manager.auth)
        assert listed.json()["items"][0]["answer_sheet"][0]["correct"] is True
    # The event for data teams keeps its fields.
    (row,) = sql(
        "SELECT data->>'status', (data->>'score')::int, (data->>'passed')::boolean"
        " FROM assessment.outbox WHERE key = %s",
        (attempt["id"],),
    )
    assert row == ("completed", 100, True)


async def test_each_attempt_gets_its_own_order_reproducible_from_its_seed(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    questions = [factory.single("a", prompt=f"Q{i}") for i in range(8)]
    exam = await factory.exam(
        people.owner,
        course,
        questions=questions,
        published=True,
        config={"shuffle_questions": True, "shuffle_options": True},
    )
    attempts = [await factory.start(p, exam["id"]) for p in (people.student, people.classmate)]
    in_exam_order = [q["id"] for q in exam["questions"]]
    for attempt in attempts:
        ((seed, sheet),) = sql(
            "SELECT shuffle_seed, answer_sheet FROM assessment.exam_attempts WHERE id = %s",
            (attempt["id"],),
        )
        assert seed is not None
        # The snapshot keeps the order drawn: the exam's questions, arranged by the seed.
        original = sorted((SheetItem.model_validate(i) for i in sheet), key=lambda i: i.position)
        original = [
            i.model_copy(update={"options": sorted(i.options, key=lambda o: o.id)})
            for i in original
        ]
        redrawn = arrange(original, seed=seed, questions=True, options=True)
        assert [i.model_dump(mode="json") for i in redrawn] == sheet
        assert sorted(q["question_id"] for q in attempt["questions"]) == sorted(in_exam_order)
    orders = [[q["question_id"] for q in a["questions"]] for a in attempts]
    assert orders[0] != orders[1] or orders[0] != in_exam_order
    # Scoring reads ids, not positions: all right is 100 whatever the order.
    done = await submit(client, people.student, attempts[0], by_question(attempts[0], exam))
    assert done["score"] == 100


@pytest.mark.parametrize(
    ("grading", "expected"),
    [("highest", 100), ("latest", 50), ("first", 0), ("average", 50)],
)
async def test_grades_follow_the_exams_grading(client, factory, people, grading, expected) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner,
        course,
        questions=[factory.single("a"), factory.single("a")],
        published=True,
        passing_score_percent=60,
        config={"grading": grading},
    )
    for picks in (["b", "b"], ["a", "a"], ["a", "b"]):  # 0, 100, 50
        attempt = await factory.start(people.student, exam["id"])
        await submit(client, people.student, attempt, picks)
    await factory.start(people.classmate, exam["id"])  # open: no grade yet
    me = await client.get(f"/api/v1/exams/{exam['id']}/grades/me", headers=people.student.auth)
    assert me.status_code == 200
    assert me.json() == {
        "attempts": 3, "attempts_left": None, "grade": expected, "passed": expected >= 60,
    }  # fmt: skip
    grades = await client.get(f"/api/v1/exams/{exam['id']}/grades", headers=people.owner.auth)
    assert grades.status_code == 200
    rows = {row["user_id"]: row for row in grades.json()["items"]}
    assert rows[str(people.student.id)]["grade"] == expected
    assert rows[str(people.student.id)]["attempts"] == 3
    assert rows[str(people.classmate.id)]["grade"] is None
    assert rows[str(people.classmate.id)]["passed"] is None


async def test_grades_page_and_are_for_managers(client, factory, people, identity) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    students = [people.student, people.classmate, await identity.register("grades-third")]
    for student in students:
        await factory.start(student, exam["id"])
    path = f"/api/v1/exams/{exam['id']}/grades"
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get(path, params=query, headers=people.owner.auth)
        assert page.status_code == 200, page.text
        seen += [row["user_id"] for row in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(str(s.id) for s in students)
    for person in (people.student, people.other):
        assert (await client.get(path, headers=person.auth)).status_code == 403
    assert (
        await client.get(path, params={"cursor": "nope"}, headers=people.owner.auth)
    ).status_code == 422
    me = await client.get(f"{path}/me", headers=people.owner.auth)
    assert me.status_code == 403


def test_the_grades_list_reads_the_exam_user_index(admin_dsn) -> None:
    """The owner's grades page groups one exam's attempts by student in index order. On
    the tests' near-empty table a scan and a sort are cheaper, so the planner is asked
    without scans: the index alone gives the rows in group order, with no sort."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN SELECT user_id, count(*), max(score), max(completed_at)"
                " FROM assessment.exam_attempts WHERE exam_id = %s"
                " GROUP BY user_id ORDER BY user_id LIMIT 21",
                (str(uuid.uuid4()),),
            )
        )
    assert "ix_exam_attempts_exam_id_user_id" in plan, plan
    assert "Sort" not in plan, plan


async def test_an_adaptive_attempt_serves_each_question_with_its_options_shuffled_by_its_seed(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client,
        people.owner,
        course,
        config={"shuffle_options": True, "max_attempts": 1, "min_items": 3, "max_items": 3},
    )
    attempt = await factory.start(people.student, exam["id"])
    served = [attempt["questions"][0]]
    for _ in range(3):
        current = served[-1]
        answered = await client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            json={"question_id": current["question_id"], "option_ids": ["a"]},
            headers=people.student.auth,
        )
        assert answered.status_code == 200, answered.text
        if answered.json()["next_question"] is None:
            break
        served.append(answered.json()["next_question"])
    assert len(served) == 3
    ((seed,),) = sql(
        "SELECT shuffle_seed FROM assessment.exam_attempts WHERE id = %s", (attempt["id"],)
    )
    for question in served:
        item = SheetItem.model_validate(
            {**question, "correct_option_ids": ["a"], "options": sorted(
                question["options"], key=lambda option: option["id"])}
        )  # fmt: skip
        expected = shuffle_options(item, seed=seed)
        assert [o["id"] for o in question["options"]] == [o.id for o in expected.options]
    # Scored by ids: every answer "a" was right whatever the order.
    done = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert all(entry["correct"] for entry in done.json()["answer_sheet"])
    again = await client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEMS + "max-attempts-reached"
