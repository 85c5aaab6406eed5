"""Taking an exam: starting, the snapshot, grading, deadlines with grace, the
sweeper, simultaneous starts and submits, and the immutable log."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from edvent_assessment.sweeper import sweep
from edvent_localstack.pytest_plugin import eventually
from edvent_platform.jobs import JobRunner


def answers_for(attempt, picks) -> dict:
    """Answers in exam order: `picks[i]` for question i (None leaves it out)."""
    return {
        "answers": [
            {"question_id": q["question_id"], "option_ids": list(pick)}
            for q, pick in zip(attempt["questions"], picks, strict=True)
            if pick is not None
        ]
    }


def staged(sql, attempt_id) -> list[tuple]:
    """The attempt.completed rows in the outbox for one attempt: (status, score, passed)."""
    rows = sql(
        "SELECT data->>'status', (data->>'score')::int, (data->>'passed')::boolean"
        " FROM assessment.outbox WHERE key = %s ORDER BY id",
        (str(attempt_id),),
    )
    return [tuple(row) for row in rows]


async def warm_pool(client, exam_id, person, count: int) -> None:
    """`count` simultaneous reads, so the app's pool has as many open connections."""
    await asyncio.gather(
        *(client.get(f"/api/v1/exams/{exam_id}", headers=person.auth) for _ in range(count))
    )


def overdue(sql, attempt_id, *, seconds: int) -> None:
    """Move an open attempt's deadline `seconds` into the past (open rows may change)."""
    sql(
        "UPDATE assessment.exam_attempts SET started_at = now() - interval '1 hour',"
        " deadline = now() - make_interval(secs => %s) WHERE id = %s",
        (seconds, attempt_id),
    )


async def test_a_start_returns_the_questions_without_answers_and_a_deadline(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, questions=[factory.single("b"), factory.multiple("a", "d")],
        published=True, duration_seconds=900,
    )  # fmt: skip
    response = await client.post(
        f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth
    )
    assert response.status_code == 201, response.text
    attempt = response.json()
    assert attempt["status"] == "in_progress"
    assert attempt["exam_id"] == exam["id"]
    assert attempt["user_id"] == str(people.student.id)
    assert attempt["score"] is None and attempt["passed"] is None
    assert attempt["completed_at"] is None
    from datetime import datetime

    started = datetime.fromisoformat(attempt["started_at"])
    assert datetime.fromisoformat(attempt["deadline"]) - started == timedelta(seconds=900)
    assert [q["question_id"] for q in attempt["questions"]] == [q["id"] for q in exam["questions"]]
    text = response.text
    assert 'correct_option_ids":[' not in text
    assert all(entry["correct_option_ids"] is None for entry in attempt["answer_sheet"])

    again = await client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
    # CONTRACT.md: 201, and a second start returns the open one (201 too, same body).
    assert again.status_code == 201, again.text
    assert again.json()["id"] == attempt["id"]
    # The student's own view of the open attempt hides the answers too.
    read = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert all(entry["correct_option_ids"] is None for entry in read.json()["answer_sheet"])


@pytest.mark.parametrize(
    ("picks", "score", "passed"),
    [
        # questions: single b (1 pt), multiple {a, d} (2 pts), single c (1 pt); pass at 50
        ((["b"], ["a", "d"], ["c"]), 100, True),
        ((["b"], ["d", "a"], None), 75, True),
        ((["a"], ["a", "d"], ["a"]), 50, True),
        ((["b"], ["a"], ["a"]), 25, False),
        ((["b"], ["a", "b", "d"], ["a"]), 25, False),
        ((None, None, None), 0, False),
    ],
)
async def test_submissions_are_graded_on_the_server(
    client, factory, people, picks, score, passed
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course,
        questions=[factory.single("b"), factory.multiple("a", "d", points=2), factory.single("c")],
        published=True, passing_score_percent=50,
    )  # fmt: skip
    attempt = await factory.start(people.student, exam["id"])
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=answers_for(attempt, picks),
        headers=people.student.auth,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["score"], done["passed"]) == ("completed", score, passed)
    assert done["completed_at"] is not None
    # Closed: the student now sees the correct answers and which were right.
    sheet = done["answer_sheet"]
    assert [entry["correct_option_ids"] for entry in sheet] == [["b"], ["a", "d"], ["c"]]
    assert [entry["answer"] for entry in sheet] == [list(p) if p else None for p in picks]
    assert sum(entry["correct"] * entry["points"] for entry in sheet) * 100 // 4 == score


async def test_scoring_reads_the_snapshot_not_the_live_questions(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, questions=[factory.single("a")], published=True)
    attempt = await factory.start(people.student, exam["id"])
    question_id = exam["questions"][0]["id"]
    # Behind the service's back (questions of a published exam are frozen in the API).
    sql(
        "UPDATE assessment.questions SET correct_option_ids = '[\"b\"]', prompt = 'Changed',"
        " points = 5 WHERE id = %s",
        (question_id,),
    )
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=answers_for(attempt, [["a"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    (entry,) = response.json()["answer_sheet"]
    assert response.json()["score"] == 100
    assert (entry["prompt"], entry["points"], entry["correct_option_ids"]) == (
        "Pick one", 1, ["a"],
    )  # fmt: skip


async def test_malformed_answers_are_422_and_leave_the_attempt_open(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, questions=[factory.single("a"), factory.multiple("a", "b")],
        published=True,
    )  # fmt: skip
    attempt = await factory.start(people.student, exam["id"])
    single_id, multiple_id = (q["question_id"] for q in attempt["questions"])
    unknown = "00000000-0000-0000-0000-000000000000"
    for answers in (
        [{"question_id": unknown, "option_ids": ["a"]}],
        [{"question_id": single_id, "option_ids": ["z"]}],
        [{"question_id": single_id, "option_ids": ["a", "b"]}],
        [{"question_id": single_id, "option_ids": []}],
        [{"question_id": single_id, "option_ids": ["a", "a"]}],
        [{"question_id": multiple_id, "option_ids": ["a", "a"]}],
        [{"question_id": multiple_id, "option_ids": []}],
        [{"question_id": single_id, "option_ids": ["a"]},
         {"question_id": single_id, "option_ids": ["b"]}],
        [{"question_id": "not-a-uuid", "option_ids": ["a"]}],
        [{"question_id": single_id, "option_ids": "a"}],
        [{"question_id": single_id}],
    ):  # fmt: skip
        response = await client.post(
            f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers},
            headers=people.student.auth,
        )  # fmt: skip
        assert response.status_code == 422, (answers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], response.json()
    missing = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={}, headers=people.student.auth
    )
    assert missing.status_code == 422
    assert sql("SELECT status FROM assessment.exam_attempts") == [("in_progress",)]
    assert staged(sql, attempt["id"]) == []


async def test_a_submission_within_the_grace_counts(client, factory, people, sql) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    attempt = await factory.start(people.student, exam["id"])
    overdue(sql, attempt["id"], seconds=20)
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=answers_for(attempt, [["a"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["score"]) == ("completed", 100)


async def test_a_submission_after_the_grace_is_409_and_closes_the_attempt_as_expired(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    attempt = await factory.start(people.student, exam["id"])
    overdue(sql, attempt["id"], seconds=40)
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=answers_for(attempt, [["a"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    read = (
        await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    ).json()
    assert (read["status"], read["score"], read["passed"]) == ("expired", 0, False)
    assert read["answer_sheet"][0]["answer"] is None
    assert staged(sql, attempt["id"]) == [("expired", 0, False)]
    again = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json=answers_for(attempt, [["a"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert again.status_code == 409
    assert staged(sql, attempt["id"]) == [("expired", 0, False)]


async def test_starting_again_after_the_deadline_expires_the_old_attempt_and_opens_a_new_one(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    old = await factory.start(people.student, exam["id"])
    overdue(sql, old["id"], seconds=40)
    response = await client.post(
        f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth
    )
    assert response.status_code == 201
    assert response.json()["id"] != old["id"]
    assert staged(sql, old["id"]) == [("expired", 0, False)]


async def test_the_sweeper_closes_overdue_attempts_once_each(
    app, client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    late = await factory.start(people.student, exam["id"])
    in_grace = await factory.start(people.classmate, exam["id"])
    overdue(sql, late["id"], seconds=31)
    overdue(sql, in_grace["id"], seconds=10)
    sessions = app.state.runtime.sessions
    assert await sweep(sessions, grace=timedelta(seconds=30), batch=1) == 1
    assert await sweep(sessions, grace=timedelta(seconds=30), batch=1) == 0
    rows = dict(sql("SELECT id::text, status FROM assessment.exam_attempts"))
    assert rows == {late["id"]: "expired", in_grace["id"]: "in_progress"}
    assert staged(sql, late["id"]) == [("expired", 0, False)]
    assert staged(sql, in_grace["id"]) == []


async def test_the_sweeper_runs_in_the_background_in_batches(
    app, client, factory, people, identity, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    students = [people.student, people.classmate, await identity.register("third")]
    attempts = [await factory.start(student, exam["id"]) for student in students]
    for attempt in attempts:
        overdue(sql, attempt["id"], seconds=60)
    # The service's own job, on a runner of its own with a short interval.
    sweeper = JobRunner(service="assessment-test", engine=app.state.runtime.engine)
    sweeper.every(
        0.1,
        lambda: sweep(app.state.runtime.sessions, grace=timedelta(seconds=30), batch=2),
        name="sweeper",
        single_runner=True,
    )
    await sweeper.start()
    try:
        await eventually(
            lambda: (
                sql("SELECT count(*) FROM assessment.exam_attempts WHERE status = 'expired'")[0][0]
                == 3
            )
        )
    finally:
        await sweeper.stop()
    for attempt in attempts:
        assert staged(sql, attempt["id"]) == [("expired", 0, False)]


async def test_simultaneous_starts_return_the_same_open_attempt(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    # The student's row is there already and the pool holds enough connections, so the
    # starts queue neither behind the first one's insert of the user nor behind new
    # connections: they race on the attempt itself.
    await eventually(
        lambda: sql("SELECT 1 FROM assessment.users WHERE id = %s", (people.student.id,))
    )
    await warm_pool(client, exam["id"], people.student, 8)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/exams/{exam['id']}/attempts", headers=people.student.auth)
            for _ in range(8)
        )
    )
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["id"] for r in responses}) == 1
    assert sql("SELECT count(*) FROM assessment.exam_attempts") == [(1,)]


async def test_simultaneous_submits_complete_the_attempt_once(client, factory, people, sql) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, questions=[factory.single("a"), factory.single("b")], published=True
    )
    attempt = await factory.start(people.student, exam["id"])
    await warm_pool(client, exam["id"], people.student, 8)
    bodies = [answers_for(attempt, [["a"], ["b"]]), answers_for(attempt, [["b"], ["a"]])] * 4
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/attempts/{attempt['id']}/submit", json=body, headers=people.student.auth
            )
            for body in bodies
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 7, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert len(staged(sql, attempt["id"])) == 1
    assert staged(sql, attempt["id"])[0][1] == winner["score"]
    read = await client.get(f"/api/v1/attempts/{attempt['id']}", headers=people.student.auth)
    assert read.json()["score"] == winner["score"]


async def test_closed_attempts_cannot_be_updated_or_deleted_by_the_service_role(
    client, factory, people, service_dsn
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    done = await factory.start(people.student, exam["id"])
    response = await client.post(
        f"/api/v1/attempts/{done['id']}/submit", json=answers_for(done, [["b"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert response.status_code == 200
    open_attempt = await factory.start(people.classmate, exam["id"])
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("assessment",)
        for statement in (
            "UPDATE assessment.exam_attempts SET score = 100, passed = true WHERE id = %s",
            "UPDATE assessment.exam_attempts SET answer_sheet = '[]' WHERE id = %s",
            "DELETE FROM assessment.exam_attempts WHERE id = %s",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="never changes"):
                conn.execute(statement, (done["id"],))
        assert conn.execute(
            "SELECT status, score FROM assessment.exam_attempts WHERE id = %s", (done["id"],)
        ).fetchone() == ("completed", 0)
        # An open attempt is not yet part of the log: the service closes it by UPDATE.
        conn.execute(
            "UPDATE assessment.exam_attempts SET deadline = deadline + interval '1 minute'"
            " WHERE id = %s",
            (open_attempt["id"],),
        )


async def test_a_student_lists_their_own_attempts_newest_first_paged_and_by_exam(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    exams = [await factory.exam(people.owner, course, published=True) for _ in range(3)]
    started = [await factory.start(people.student, exam["id"]) for exam in exams]
    await factory.start(people.classmate, exams[0]["id"])
    closed = await client.post(
        f"/api/v1/attempts/{started[0]['id']}/submit", json=answers_for(started[0], [["a"]]),
        headers=people.student.auth,
    )  # fmt: skip
    assert closed.status_code == 200, closed.text

    auth = people.student.auth
    first = (await client.get("/api/v1/attempts", params={"limit": 2}, headers=auth)).json()
    assert [a["id"] for a in first["items"]] == [started[2]["id"], started[1]["id"]]
    rest = await client.get(
        "/api/v1/attempts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
    )
    assert rest.json()["next_cursor"] is None
    [oldest] = rest.json()["items"]
    # As GET /attempts/{id} shows it: the closed attempt with its correct answers.
    assert oldest == (await client.get(f"/api/v1/attempts/{oldest['id']}", headers=auth)).json()
    assert oldest["status"] == "completed"
    assert oldest["answer_sheet"][0]["correct_option_ids"] == ["a"]

    one_exam = await client.get(
        "/api/v1/attempts", params={"exam_id": exams[1]["id"]}, headers=auth
    )
    assert [a["id"] for a in one_exam.json()["items"]] == [started[1]["id"]]
    # The course's owner manages the attempts but has taken none.
    owners = await client.get("/api/v1/attempts", headers=people.owner.auth)
    assert owners.json() == {"items": [], "next_cursor": None}


async def test_the_owner_pages_through_an_exams_attempts_newest_first(
    client, factory, people
) -> None:
    # The same page shape as GET /attempts: items and a cursor to the next page.
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    first_start = await factory.start(people.student, exam["id"])
    second_start = await factory.start(people.classmate, exam["id"])
    path, auth = f"/api/v1/exams/{exam['id']}/attempts", people.owner.auth
    first = (await client.get(path, params={"limit": 1}, headers=auth)).json()
    assert [a["id"] for a in first["items"]] == [second_start["id"]]
    # The owner sees an open attempt's correct answers, as GET /attempts/{id} shows them.
    shown = await client.get(f"/api/v1/attempts/{second_start['id']}", headers=auth)
    assert first["items"][0] == shown.json()
    rest = await client.get(path, params={"limit": 1, "cursor": first["next_cursor"]}, headers=auth)
    assert [a["id"] for a in rest.json()["items"]] == [first_start["id"]]
    assert rest.json()["next_cursor"] is None
    whole = (await client.get(path, params={"limit": 2}, headers=auth)).json()
    assert [a["id"] for a in whole["items"]] == [second_start["id"], first_start["id"]]
    assert whole["next_cursor"] is None


async def test_own_attempts_need_a_token_and_a_valid_page(client, people) -> None:
    anonymous = await client.get("/api/v1/attempts")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "nope"}, {"exam_id": "x"}):
        answer = await client.get("/api/v1/attempts", params=bad, headers=people.student.auth)
        assert answer.status_code == 422, bad
