"""Calibration through `edvent-assessment calibrate` on attempts stored in the real
database: it recovers the generating difficulties, stores them beside the author's, the
analytics show both, and selection uses them from the next attempt on."""

from __future__ import annotations

import asyncio
import json
import uuid

import numpy as np
import psycopg

from edvent_assessment.calibrator import calibrate_all
from edvent_localstack.pytest_plugin import eventually
from edvent_localstack.services import SERVICES
from edvent_platform.jobs import JobRunner

from .test_adaptive_attempts import adaptive_exam

TRUE_DIFFICULTIES = [2.0, -1.6, -1.0, -0.5, 0.1, 0.6, 1.1, 1.5, -2.0, 0.9]
ATTEMPTS = 400


def store_completed_attempts(sql, admin_dsn, exam, user_id, *, seed: int) -> None:
    """ATTEMPTS completed attempts answering every question, by students with abilities
    from N(0, 1) under the Rasch model with TRUE_DIFFICULTIES."""
    rng = np.random.default_rng(seed)
    sql(
        "INSERT INTO assessment.users (id, role) VALUES (%s, 'STUDENT') ON CONFLICT DO NOTHING",
        (user_id,),
    )
    rows = []
    for ability in rng.normal(0.0, 1.0, ATTEMPTS):
        sheet = []
        for question, b in zip(exam["questions"], TRUE_DIFFICULTIES, strict=True):
            right = bool(rng.random() < 1 / (1 + np.exp(-(ability - b))))
            sheet.append(
                {
                    "question_id": question["id"],
                    "position": question["position"],
                    "prompt": question["prompt"],
                    "kind": question["kind"],
                    "options": question["options"],
                    "correct_option_ids": ["a"],
                    "points": 1,
                    "difficulty": 0.0,
                    "answer": ["a"] if right else ["b"],
                    "correct": right,
                }
            )
        rows.append((str(uuid.uuid4()), exam["id"], str(user_id), json.dumps(sheet)))
    # Born open and then closed, as the service does it: the immutability trigger
    # refuses an attempt born closed, whoever inserts it.
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for attempt_id, exam_id, student_id, answer_sheet in rows:
            conn.execute(
                "INSERT INTO assessment.exam_attempts (id, exam_id, user_id, started_at,"
                " deadline, answer_sheet) VALUES (%s, %s, %s, now() - interval '1 hour',"
                " now(), %s)",
                (attempt_id, exam_id, student_id, answer_sheet),
            )
            conn.execute(
                "UPDATE assessment.exam_attempts SET status = 'completed', score = 50,"
                " passed = true, completed_at = now() - interval '30 minutes' WHERE id = %s",
                (attempt_id,),
            )


async def test_calibrate_recovers_the_difficulties_and_selection_uses_them(
    client, factory, people, sql, admin_dsn, service_database_url
) -> None:
    course = await factory.course(people.owner)
    # Every author says 0; pure maximum information at 0 (no random draw) then serves the
    # first question, until calibration says it is the hardest one.
    exam = await adaptive_exam(
        client, people.owner, course,
        config={"min_items": 1, "max_items": 5, "exposure_top_k": 1},
        difficulties=[0.0] * len(TRUE_DIFFICULTIES),
    )  # fmt: skip
    before = await factory.start(people.student, exam["id"])
    assert before["questions"][0]["question_id"] == exam["questions"][0]["id"]
    store_completed_attempts(sql, admin_dsn, exam, people.classmate.id, seed=7)

    result = await asyncio.to_thread(
        SERVICES["assessment"].run,
        "calibrate",
        "--exam",
        exam["id"],
        database_url=service_database_url("assessment"),
    )
    assert result.returncode == 0, result.stderr
    assert "calibrated" in result.stdout

    calibrated = sql(
        "SELECT calibrated_difficulty, calibration_sample_size, difficulty"
        " FROM assessment.questions WHERE exam_id = %s ORDER BY position",
        (exam["id"],),
    )
    assert len(calibrated) == len(TRUE_DIFFICULTIES)
    assert all(n == ATTEMPTS and author == 0.0 for _, n, author in calibrated)
    estimates = [b for b, _, _ in calibrated]
    assert np.corrcoef(estimates, TRUE_DIFFICULTIES)[0, 1] >= 0.9

    analytics = await client.get(f"/api/v1/exams/{exam['id']}/analytics", headers=people.owner.auth)
    assert analytics.status_code == 200, analytics.text
    first = analytics.json()["questions"][0]
    assert (first["difficulty"], first["calibration_sample_size"]) == (0.0, ATTEMPTS)
    assert first["calibrated_difficulty"] == estimates[0]

    # The bank is rebuilt (calibrated_at moved): the question closest to 0 comes first now.
    after = await factory.start(people.classmate, exam["id"])
    closest = int(np.argmin(np.abs(estimates)))
    assert after["questions"][0]["question_id"] == exam["questions"][closest]["id"]


async def test_the_periodic_job_calibrates_published_adaptive_exams(
    app, client, factory, people, sql, admin_dsn
) -> None:
    course = await factory.course(people.owner)
    exam = await adaptive_exam(
        client, people.owner, course, config={"min_items": 1, "max_items": 5},
        difficulties=[0.0] * len(TRUE_DIFFICULTIES),
    )  # fmt: skip
    store_completed_attempts(sql, admin_dsn, exam, people.classmate.id, seed=11)
    # The service registers it on its runner, and an interval of 0 (the default) adds
    # nothing; here a runner of its own runs the same pass every 0.1 s.
    assert "calibration" not in app.state.runtime.jobs.job_names
    calibrator = JobRunner(service="assessment-test", engine=app.state.runtime.engine)
    calibrator.every(
        0.1,
        lambda: calibrate_all(app.state.runtime.sessions, min_responses=100),
        name="calibration",
        single_runner=True,
    )
    await calibrator.start()
    try:
        await eventually(
            lambda: (
                sql(
                    "SELECT count(*) FROM assessment.questions WHERE exam_id = %s"
                    " AND calibration_sample_size = %s",
                    (exam["id"], ATTEMPTS),
                )
                == [(len(TRUE_DIFFICULTIES),)]
            ),
            timeout=60,
        )
    finally:
        await calibrator.stop()
    assert sql("SELECT calibrated_at IS NOT NULL FROM assessment.exams WHERE id = %s",
               (exam["id"],)) == [(True,)]  # fmt: skip
