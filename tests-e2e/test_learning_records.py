"""A student takes an exam through the gateway; within seconds the LRS (Ralph, as
`make dev` runs it) holds `attempted` and `completed` for their account, with the
score, read back through the standard xAPI statements resource."""

from __future__ import annotations

import json

import httpx
import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from .helpers import create_exam, open_to_students, register, until

pytestmark = pytest.mark.e2e

ADL = "http://adlnet.gov/expapi/verbs/"


async def test_an_exam_taken_is_attempted_and_completed_in_the_lrs(gateway, platform):
    instructor = (await register(gateway, role="INSTRUCTOR", prefix="xapi")).auth
    student = await register(gateway, prefix="xapi")
    course = await gateway.post("/api/v1/courses", json={"title": "xAPI"}, headers=instructor)
    assert course.status_code == 201, course.text
    exam_id = await create_exam(gateway, instructor, course.json()["id"], duration_seconds=300)
    await open_to_students(gateway, instructor, course.json()["id"], exam_id, student.auth)
    attempt = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
    assert attempt.status_code == 201, attempt.text
    answers = [{"question_id": attempt.json()["questions"][0]["question_id"], "option_ids": ["b"]}]
    done = await gateway.post(
        f"/api/v1/attempts/{attempt.json()['id']}/submit", json={"answers": answers},
        headers=student.auth,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    score = done.json()["score"]

    # The actor as the service writes it: the platform's account, never the email.
    agent = {"account": {"homePage": platform.gateway, "name": student.id}}
    async with httpx.AsyncClient(
        base_url=platform.lrs,
        auth=platform.lrs_auth,
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=10,
    ) as lrs:

        def by_verb(answer: httpx.Response) -> dict[str, dict]:
            return {s["verb"]["id"]: s for s in answer.json()["statements"]}

        # Ralph's file-system backend answers `verb=` with nothing (README): filter here.
        answer = await until(
            lambda: lrs.get("/xAPI/statements", params={"agent": json.dumps(agent)}),
            lambda r: r.status_code == 200 and len(by_verb(r)) >= 2,
            timeout=30,
        )
    statements = by_verb(answer)
    assert {ADL + "attempted", ADL + "completed"} <= set(statements), statements
    completed = statements[ADL + "completed"]
    assert completed["result"]["score"] == {
        "scaled": score / 100, "raw": score, "min": 0, "max": 100,
    }  # fmt: skip
    assert completed["result"]["success"] is done.json()["passed"]
    assert completed["object"]["id"] == f"{platform.gateway}/exams/{exam_id}"
    assert completed["context"]["registration"] == attempt.json()["id"]
    assert student.email not in json.dumps(statements)
    for statement in statements.values():
        BaseXapiStatement.model_validate(statement)
