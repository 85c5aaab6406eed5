"""Who may do what, endpoint by endpoint: the table is the specification.

`owner` owns the course (from content's CourseCreated); `other` is another instructor;
`student` started attempt A on the published exam P;
`classmate` is another student. D is a draft exam of the same course. What a caller
may not see answers 404 (drafts and others' attempts do not leak); what they see but
may not do answers 403; no token answers 401.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from edvent_localstack.pytest_plugin import eventually

ROLES = ("anonymous", "student", "classmate", "other", "owner", "admin")


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {C} course, {P} published exam, {D} draft exam, {A} student's attempt
    expected: tuple[int, int, int, int, int, int]  # in ROLES order
    body: str | None = None


TABLE: dict[str, Case] = {
    "create exam": Case("POST", "/api/v1/exams", (401, 403, 403, 403, 201, 201), "exam"),
    "list exams": Case("GET", "/api/v1/exams?course_id={C}", (401, 200, 200, 200, 200, 200)),
    "get published exam": Case("GET", "/api/v1/exams/{P}", (401, 200, 200, 200, 200, 200)),
    "get draft exam": Case("GET", "/api/v1/exams/{D}", (401, 404, 404, 404, 200, 200)),
    "add question to draft": Case(
        "POST", "/api/v1/exams/{D}/questions", (401, 404, 404, 404, 201, 201), "question"
    ),
    "add question to published": Case(
        "POST", "/api/v1/exams/{P}/questions", (401, 403, 403, 403, 409, 409), "question"
    ),
    "publish draft": Case("POST", "/api/v1/exams/{D}/publish", (401, 404, 404, 404, 200, 200)),
    "publish published": Case("POST", "/api/v1/exams/{P}/publish", (401, 403, 403, 403, 200, 200)),
    "start attempt on published": Case(
        "POST", "/api/v1/exams/{P}/attempts", (401, 201, 201, 403, 403, 403)
    ),
    "start attempt on draft": Case(
        "POST", "/api/v1/exams/{D}/attempts", (401, 404, 404, 404, 403, 403)
    ),
    "list attempts of published": Case(
        "GET", "/api/v1/exams/{P}/attempts", (401, 403, 403, 403, 200, 200)
    ),
    "list attempts of draft": Case(
        "GET", "/api/v1/exams/{D}/attempts", (401, 404, 404, 404, 200, 200)
    ),
    "analytics of published": Case(
        "GET", "/api/v1/exams/{P}/analytics", (401, 403, 403, 403, 200, 200)
    ),
    "grades of published": Case("GET", "/api/v1/exams/{P}/grades", (401, 403, 403, 403, 200, 200)),
    "grades of draft": Case("GET", "/api/v1/exams/{D}/grades", (401, 404, 404, 404, 200, 200)),
    "own grade at published": Case(
        "GET", "/api/v1/exams/{P}/grades/me", (401, 200, 200, 403, 403, 403)
    ),
    "get attempt": Case("GET", "/api/v1/attempts/{A}", (401, 200, 404, 404, 200, 200)),
    "submit attempt": Case(
        "POST", "/api/v1/attempts/{A}/submit", (401, 200, 404, 404, 403, 403), "answers"
    ),
}


def body(kind: str | None, world: dict[str, str]) -> dict | None:
    if kind == "exam":
        return {"course_id": world["C"], "title": "T", "duration_seconds": 60,
                "passing_score_percent": 50}  # fmt: skip
    if kind == "question":
        return {"prompt": "?", "kind": "single_choice", "correct_option_ids": ["a"],
                "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}  # fmt: skip
    if kind == "answers":
        return {"answers": []}
    return None


async def build_world(factory, people) -> dict[str, str]:
    course = await factory.course(people.owner)
    published = await factory.exam(people.owner, course, published=True)
    draft = await factory.exam(people.owner, course)
    attempt = await factory.start(people.student, published["id"])
    return {"C": course, "P": published["id"], "D": draft["id"], "A": attempt["id"]}


def callers(people) -> list:
    return [None, people.student, people.classmate, people.other, people.owner, people.admin]


async def call(client, case: Case, world: dict[str, str], caller) -> int:
    response = await client.request(
        case.method,
        case.path.format(**world),
        json=body(case.body, world),
        headers=caller.auth if caller else {},
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code


@pytest.mark.parametrize("role", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("name", list(TABLE))
async def test_access(client, factory, people, name, role) -> None:
    # A fresh world each: one caller's change must not decide the next one's answer.
    case = TABLE[name]
    world = await build_world(factory, people)
    assert await call(client, case, world, callers(people)[role]) == case.expected[role]


async def test_a_demoted_owner_loses_the_rights_of_an_owner(
    client, factory, people, identity
) -> None:
    owner = await identity.instructor(people.admin, "soon-student")
    course = await factory.course(owner)
    exam = await factory.exam(owner, course)
    demoted = await identity.http.patch(
        f"/api/v1/users/{owner.id}", json={"role": "STUDENT"}, headers=people.admin.auth
    )
    assert demoted.status_code == 200
    owner = await identity.login(owner.email, "soon-student")
    response = await client.get(f"/api/v1/exams/{exam['id']}", headers=owner.auth)
    assert response.status_code == 404


async def test_a_demoted_owners_older_token_loses_rights_once_the_event_arrives(
    client, factory, people, identity, sql
) -> None:
    owner = await identity.instructor(people.admin, "demoted-later")
    course = await factory.course(owner)
    exam = await factory.exam(owner, course)
    demoted = await identity.http.patch(
        f"/api/v1/users/{owner.id}", json={"role": "STUDENT"}, headers=people.admin.auth
    )
    assert demoted.status_code == 200

    def role() -> str | None:
        rows = sql("SELECT role FROM assessment.users WHERE id = %s", (owner.id,))
        return rows[0][0] if rows else None

    await eventually(lambda: role() == "STUDENT")
    # The token still says INSTRUCTOR, but the role event came after it was issued.
    analytics = await client.get(f"/api/v1/exams/{exam['id']}/analytics", headers=owner.auth)
    assert analytics.status_code in (403, 404), analytics.text
    created = await client.post(
        "/api/v1/exams",
        json={"course_id": course, "title": "No", "duration_seconds": 60,
              "passing_score_percent": 50},
        headers=owner.auth,
    )  # fmt: skip
    assert created.status_code == 403, created.text


async def test_students_read_only_their_own_attempts_in_a_list(client, factory, people) -> None:
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    mine = await factory.start(people.student, exam["id"])
    theirs = await factory.start(people.classmate, exam["id"])
    response = await client.get(f"/api/v1/exams/{exam['id']}/attempts", headers=people.owner.auth)
    assert {item["id"] for item in response.json()["items"]} == {mine["id"], theirs["id"]}
    # The owner sees the answers of an open attempt; the student does not.
    owner_view = await client.get(f"/api/v1/attempts/{mine['id']}", headers=people.owner.auth)
    assert owner_view.json()["answer_sheet"][0]["correct_option_ids"] == ["a"]
    student_view = await client.get(f"/api/v1/attempts/{mine['id']}", headers=people.student.auth)
    assert student_view.json()["answer_sheet"][0]["correct_option_ids"] is None
