"""Adaptive exams over HTTP against the real database: one question at a time, the stop
rules, answers out of turn, simultaneous answers, config validation, the deadline."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from edvent_assessment.domain.adaptive import Bank, Item, expected_score
from edvent_assessment.sweeper import sweep

DIFFICULTIES = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def question(index: int, difficulty: float, *, discrimination: float | None = None) -> dict:
    body: dict[str, Any] = {
        "prompt": f"Question {index}",
        "kind": "single_choice",
        "options": [{"id": oid, "text": f"Option {oid}"} for oid in ("a", "b", "c")],
        "correct_option_ids": ["a"],
        "difficulty": difficulty,
    }
    if discrimination is not None:
        body["discrimination"] = discrimination
    return body


async def adaptive_exam(
    client, owner, course_id, *, config: dict, difficulties=DIFFICULTIES, duration=600
) -> dict:
    response = await client.post(
        "/api/v1/exams",
        json={
            "course_id": course_id,
            "title": "Adaptive",
            "duration_seconds": duration,
            "passing_score_percent": 50,
            "config": {"mode": "adaptive", **config},
        },
        headers=owner.auth,
    )
    assert response.status_code == 201, response.text
    exam = response.json()
    for index, difficulty in enumerate(difficulties):
        added = await client.post(
            f"/api/v1/exams/{exam['id']}/questions",
            json=question(index, difficulty),
            headers=owner.auth,
        )
        assert added.status_code == 201, added.text
    published = await client.post(f"/api/v1/exams/{exam['id']}/publish", headers=owner.auth)
    assert published.status_code == 200, published.text
    return published.json()


async def answer(client, person, attempt_id, question_id, option_ids=("a",)):
    return await client.post(
        f"/api/v1/attempts/{attempt_id}/answers",
        json={"question_id": question_id, "option_ids": list(option_ids)},
        headers=person.auth,
    )


async def run_to_the_end(client, person, attempt, pick=lambda n: ("a",)) -> tuple[dict, int]:
    """Answer each served question with `pick(n)` until the attempt completes."""
    current = attempt["questions"][-1]["question_id"]
    count = 0
    while True:
        response = await answer(client, person, attempt["id"], current, pick(count))
        assert response.status_code == 200, response.text
        count += 1
        body = response.json()
        if body["next_question"] is None:
            return body["attempt"], count
        current = body["next_question"]["question_id"]
        assert body["attempt"]["questions"][-1]["question_id"] == current


def events(sql, attempt_id) -> list[dict]:
    rows = sql("SELECT data FROM assessment.outbox WHERE key = %s ORDER BY id", (str(attempt_id),))
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


async def test_a_full_adaptive_attempt_over_http(client, factory, people, sql) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client, people.owner, course,
        config={"min_items": 3, "max_items": 5, "target_standard_error": 0.05},
    )  # fmt: skip
    started = await client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
    assert started.status_code == 201, started.text
    attempt = started.json()
    assert len(attempt["questions"]) == 1 and len(attempt["answer_sheet"]) == 1
    assert attempt["answer_sheet"][0]["correct_option_ids"] is None
    # Right, wrong, right, wrong, right: max_items (5) ends it.
    closed, count = await run_to_the_end(
        client, people.student, attempt, pick=lambda n: ("a",) if n % 2 == 0 else ("b",)
    )
    assert count == 5
    assert closed["status"] == "completed"
    assert [item["correct"] for item in closed["answer_sheet"]] == [True, False, True, False, True]
    assert len({item["question_id"] for item in closed["answer_sheet"]}) == 5
    assert all(item["standard_error"] > 0 for item in closed["answer_sheet"])
    assert closed["ability"] == closed["answer_sheet"][-1]["ability"]
    assert closed["standard_error"] == closed["answer_sheet"][-1]["standard_error"]
    bank = Bank([Item(str(i), b) for i, b in enumerate(DIFFICULTIES)], model="rasch")
    assert closed["score"] == expected_score(bank=bank, ability=closed["ability"])
    assert closed["passed"] == (closed["score"] >= 50)
    (event,) = events(sql, attempt["id"])
    assert (event["status"], event["score"], event["ability"]) == (
        "completed", closed["score"], closed["ability"],
    )  # fmt: skip
    again = await answer(
        client, people.student, attempt["id"], closed["answer_sheet"][0]["question_id"]
    )
    assert again.status_code == 409
    read = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert read.json()["ability"] == closed["ability"]


async def test_it_stops_at_the_target_standard_error_after_min_items(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    # The prior's sd (1) is already below the target: only min_items holds it back.
    exam = await adaptive_exam(
        client, people.owner, course,
        config={"min_items": 2, "max_items": 8, "target_standard_error": 1.5},
    )  # fmt: skip
    attempt = await factory.start(people.student, exam["id"])
    closed, count = await run_to_the_end(client, people.student, attempt)
    assert (count, closed["status"]) == (2, "completed")
    assert closed["standard_error"] <= 1.5


async def test_it_stops_when_the_bank_is_used_up(client, factory, people) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client, people.owner, course,
        config={"min_items": 1, "max_items": 20, "target_standard_error": 0.01},
        difficulties=[-1.0, 0.0, 1.0],
    )  # fmt: skip
    attempt = await factory.start(people.student, exam["id"])
    closed, count = await run_to_the_end(client, people.student, attempt)
    assert (count, closed["status"]) == (3, "completed")


async def test_answers_out_of_turn_are_409_and_bad_options_422(client, factory, people) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client, people.owner, course, config={"min_items": 2, "max_items": 4}
    )
    attempt = await factory.start(people.student, exam["id"])
    first = attempt["questions"][0]["question_id"]
    unserved = next(q["id"] for q in exam["questions"] if q["id"] != first)
    assert (await answer(client, people.student, attempt["id"], unserved)).status_code == 409
    bad = await answer(client, people.student, attempt["id"], first, ("z",))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "option_ids"]
    assert (await answer(client, people.student, attempt["id"], first)).status_code == 200
    assert (await answer(client, people.student, attempt["id"], first)).status_code == 409
    submitted = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": []},
        headers=people.student.auth,
    )  # fmt: skip
    assert submitted.status_code == 409
    other = await answer(client, people.classmate, attempt["id"], first)
    assert other.status_code == 404
    fixed = await factory.exam(people.owner, course, published=True)
    fixed_attempt = await factory.start(people.student, fixed["id"])
    wrong_mode = await answer(
        client, people.student, fixed_attempt["id"], fixed_attempt["questions"][0]["question_id"]
    )
    assert wrong_mode.status_code == 409


async def test_simultaneous_answers_to_one_attempt_are_taken_one_at_a_time(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(client, people.owner, course, config={"max_items": 6})
    attempt = await factory.start(people.student, exam["id"])
    first = attempt["questions"][0]["question_id"]
    # Enough open connections that the answers race on the row, not on the pool.
    await asyncio.gather(
        *(client.get(f"/api/v1/exams/{exam['id']}", headers=people.student.auth) for _ in range(8))
    )
    picks = [("a",), ("b",)] * 4
    responses = await asyncio.gather(
        *(answer(client, people.student, attempt["id"], first, pick) for pick in picks)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 7, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    (sheet,) = sql(
        "SELECT answer_sheet FROM assessment.exam_attempts WHERE id = %s", (attempt["id"],)
    )[0]
    assert len(sheet) == 2
    assert sheet[0]["answer"] == winner["attempt"]["answer_sheet"][0]["answer"]
    assert sheet[1]["question_id"] == winner["next_question"]["question_id"]


def overdue(sql, attempt_id, *, seconds: int) -> None:
    sql(
        "UPDATE assessment.exam_attempts SET started_at = now() - interval '1 hour',"
        " deadline = now() - make_interval(secs => %s) WHERE id = %s",
        (seconds, attempt_id),
    )


async def test_an_answer_after_the_deadline_is_409_and_expires_the_attempt(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(client, people.owner, course, config={"max_items": 6})
    attempt = await factory.start(people.student, exam["id"])
    first = await answer(
        client, people.student, attempt["id"], attempt["questions"][0]["question_id"]
    )
    assert first.status_code == 200
    second = first.json()["next_question"]["question_id"]
    overdue(sql, attempt["id"], seconds=40)
    late = await answer(client, people.student, attempt["id"], second)
    assert late.status_code == 409
    assert late.headers["content-type"] == "application/problem+json"
    read = (
        await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    ).json()
    assert (read["status"], read["score"], read["passed"], read["ability"]) == (
        "expired", 0, False, None,
    )  # fmt: skip
    assert [item["answer"] for item in read["answer_sheet"]] == [["a"], None]
    (event,) = events(sql, attempt["id"])
    assert (event["status"], event["score"], event.get("ability")) == ("expired", 0, None)


async def test_the_sweeper_expires_adaptive_attempts(app, client, factory, people, sql) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(client, people.owner, course, config={"max_items": 6})
    attempt = await factory.start(people.student, exam["id"])
    overdue(sql, attempt["id"], seconds=40)
    assert await sweep(app.state.runtime.sessions, grace=timedelta(seconds=30), batch=10) == 1
    assert sql("SELECT status FROM assessment.exam_attempts WHERE id = %s", (attempt["id"],)) == [
        ("expired",)
    ]


async def test_a_completed_adaptive_attempt_is_immutable(
    client, factory, people, service_dsn
) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client, people.owner, course, config={"min_items": 1, "max_items": 2}
    )
    attempt = await factory.start(people.student, exam["id"])
    closed, _ = await run_to_the_end(client, people.student, attempt)
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        for statement in (
            "UPDATE assessment.exam_attempts SET ability = 3, standard_error = 0.1 WHERE id = %s",
            "UPDATE assessment.exam_attempts SET answer_sheet = '[]' WHERE id = %s",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="never changes"):
                conn.execute(statement, (attempt["id"],))
        assert conn.execute(
            "SELECT ability FROM assessment.exam_attempts WHERE id = %s", (attempt["id"],)
        ).fetchone() == (closed["ability"],)
