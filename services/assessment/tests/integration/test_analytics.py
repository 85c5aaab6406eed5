"""Analytics follow attempt.completed through the idempotent consumer: redelivered
events never count twice."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.topics import ASSESSMENT_ATTEMPTS
from edvent_localstack.pytest_plugin import eventually, read_topic


async def submit(client, attempt, student, picks) -> Any:
    answers = [
        {"question_id": q["question_id"], "option_ids": [pick]}
        for q, pick in zip(attempt["questions"], picks, strict=True)
    ]
    response = await client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers}, headers=student.auth
    )
    assert response.status_code == 200, response.text
    return response.json()


ATTEMPT_COMPLETED = AttemptCompleted.ce_type


# The author's item parameters (defaults) and no calibration yet.
UNCALIBRATED = {
    "difficulty": 0.0,
    "irt_discrimination": None,
    "calibrated_difficulty": None,
    "calibrated_discrimination": None,
    "calibration_sample_size": None,
}


async def test_analytics_count_each_attempt_once_even_when_events_are_redelivered(
    client, factory, people, identity, kafka, producer, sql
) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(
        people.owner, course, questions=[factory.single("a"), factory.single("b")],
        published=True, passing_score_percent=50,
    )  # fmt: skip
    url = f"/api/v1/exams/{exam['id']}/analytics"
    empty = (await client.get(url, headers=people.owner.auth)).json()
    assert empty == {
        "exam_id": exam["id"], "attempts_completed": 0, "attempts_expired": 0,
        "average_score": None, "pass_rate": None,
        "reliability_alpha": None, "score_histogram": histogram({}),
        "questions": [
            {"question_id": q["id"], "correct_rate": None, "discrimination": None,
             "option_counts": {}, **UNCALIBRATED}
            for q in exam["questions"]
        ],
    }  # fmt: skip

    third = await identity.register("third")
    await submit(client, await factory.start(people.student, exam["id"]), people.student, "ab")
    await submit(client, await factory.start(people.classmate, exam["id"]), people.classmate, "aa")
    late = await factory.start(third, exam["id"])
    sql(
        "UPDATE assessment.exam_attempts SET started_at = now() - interval '1 hour',"
        " deadline = now() - interval '1 minute' WHERE id = %s",
        (late["id"],),
    )
    assert (await client.post(f"/api/v1/attempts/{late['id']}/submit", json={"answers": []},
                              headers=third.auth)).status_code == 409  # fmt: skip

    expected = {
        "exam_id": exam["id"], "attempts_completed": 2, "attempts_expired": 1,
        "average_score": 75.0, "pass_rate": 1.0,
        # t = 2 and 1 points; question 0 never varies, question 1 all of it: alpha 0.
        "reliability_alpha": 0.0, "score_histogram": histogram({5: 1, 9: 1}),
        "questions": [
            # Everyone right: nothing to discriminate (null, not 0).
            {"question_id": exam["questions"][0]["id"], "correct_rate": 1.0,
             "discrimination": None, "option_counts": {"a": 2, "b": 0, "c": 0},
             **UNCALIBRATED},
            # The rest score (question 0) never varies: null too.
            {"question_id": exam["questions"][1]["id"], "correct_rate": 0.5,
             "discrimination": None, "option_counts": {"a": 1, "b": 1, "c": 0},
             **UNCALIBRATED},
        ],
    }  # fmt: skip

    async def settled() -> bool:
        return (await client.get(url, headers=people.owner.auth)).json() == expected

    await eventually(settled)

    # Every event of this exam again, exactly as it travelled (same ce_id).
    attempt_ids = {row[0] for row in sql(
        "SELECT id::text FROM assessment.exam_attempts WHERE exam_id = %s", (exam["id"],)
    )}  # fmt: skip
    records = await read_topic(
        kafka.admin, ASSESSMENT_ATTEMPTS, expected=3,
        where=lambda r: r.key.decode() in attempt_ids,
    )  # fmt: skip
    assert len(records) == 3
    before = duplicates()
    for record in records:
        await producer.send_and_wait(
            ASSESSMENT_ATTEMPTS, key=record.key, value=record.value, headers=list(record.headers)
        )

    # The consumer skipped all three copies (its inbox knows their ids) and counted nothing.
    await eventually(lambda: duplicates() >= before + 3)
    assert (await client.get(url, headers=people.owner.auth)).json() == expected


def histogram(counts: dict[int, int]) -> list[dict[str, int]]:
    return [
        {"lower": 10 * i, "upper": 100 if i == 9 else 10 * i + 9, "count": counts.get(i, 0)}
        for i in range(10)
    ]


def duplicates() -> float:
    """Events the assessment consumer skipped as already handled (its own metric)."""
    value = REGISTRY.get_sample_value(
        "events_handled_total",
        {"service": "assessment", "type": ATTEMPT_COMPLETED, "outcome": "duplicate"},
    )
    return value or 0.0
