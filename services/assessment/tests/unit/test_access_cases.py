"""CONTRACT.md "Who may see what", as tests-e2e/access_cases.yaml states it, run against
assessment's own rules (`domain/access.py` and the review policy of `domain/settings.py`).

Every case whose thing assessment holds is run for every caller; `unauthorized` (no
token) is the platform's auth dependency, before any rule, so it is only checked to be
the anonymous caller's outcome.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from edvent_assessment.domain import access
from edvent_assessment.domain.access import Actor, ExamFacts, Role
from edvent_assessment.domain.errors import (
    AttemptNotFound,
    CourseArchived,
    ExamNotFound,
    NotAllowed,
)
from edvent_assessment.domain.exams import parse_config
from edvent_assessment.domain.settings import review_allowed

CASES_FILE = Path(__file__).parents[4] / "tests-e2e" / "access_cases.yaml"
THINGS = {
    "exam",
    "start_attempt",
    "manage_exam",
    "correct_answers",
    "attempt",
    "attempt_correct_answers",
    "exam_results",
}

OWNER = uuid.uuid4()
STUDENT = uuid.uuid4()
CALLERS = {
    "student": Actor(STUDENT, Role.STUDENT),
    "other_student": Actor(uuid.uuid4(), Role.STUDENT),
    "owner": Actor(OWNER, Role.INSTRUCTOR),
    "other_instructor": Actor(uuid.uuid4(), Role.INSTRUCTOR),
    "admin": Actor(uuid.uuid4(), Role.ADMIN),
    # The role that counts is the one from identity's event, whatever the old token says.
    "demoted_owner": Actor(OWNER, Role.STUDENT),
}


def load_cases() -> list[tuple[str, dict[str, str], str, str]]:
    document = yaml.safe_load(CASES_FILE.read_text())
    cases = []
    for case in document["cases"]:
        if case["thing"] not in THINGS:
            continue
        for caller, outcome in case["outcomes"].items():
            cases.append((case["thing"], case["state"], caller, outcome))
    return cases


CASES = load_cases()


def facts(state: dict[str, str]) -> ExamFacts:
    return ExamFacts(
        owner_id=OWNER,
        published=state.get("exam") == "published",
        course_published=state.get("course") in ("published", "archived"),
        course_archived=state.get("course") == "archived",
    )


def outcome_of(thing: str, state: dict[str, str], actor: Actor) -> str:
    exam = facts(state)
    try:
        match thing:
            case "exam":
                access.check_exam_visible(actor, exam)
                return "visible"
            case "start_attempt":
                access.check_may_start(actor, exam)
                return "allowed"
            case "manage_exam":
                access.check_exam_manageable(actor, exam)
                return "allowed"
            case "exam_results":
                access.check_exam_manageable(actor, exam)
                return "visible"
            case "correct_answers":
                access.check_exam_visible(actor, exam)
                return "present" if access.may_manage(actor, OWNER) else "absent"
            case "attempt" | "attempt_correct_answers":
                access.check_attempt_visible(actor, student_id=STUDENT, owner_id=OWNER)
                if thing == "attempt":
                    return "visible"
                return "present" if sees_attempt_answers(state, actor) else "absent"
    except (ExamNotFound, AttemptNotFound):
        return "not_found"
    except NotAllowed:
        return "forbidden"
    except CourseArchived:
        return "conflict"
    raise AssertionError(f"no rule for {thing}")


def sees_attempt_answers(state: dict[str, str], actor: Actor) -> bool:
    settings = parse_config({"review": state.get("review", "after_submit")})
    closed = state.get("attempt") == "closed"
    return access.sees_correct_answers(
        actor,
        owner_id=OWNER,
        attempt_closed=closed,
        review_allows=review_allowed(
            settings, attempt_closed=closed, exam_closed=state.get("window") == "closed"
        ),
    )


def test_the_table_has_cases_for_every_thing_assessment_holds() -> None:
    assert {thing for thing, *_ in CASES} == THINGS


@pytest.mark.parametrize(
    ("thing", "state", "caller", "expected"),
    CASES,
    ids=[f"{thing}-{'-'.join(state.values())}-{caller}" for thing, state, caller, _ in CASES],
)
def test_access_case(thing: str, state: dict[str, Any], caller: str, expected: str) -> None:
    if caller == "anonymous":
        assert expected == "unauthorized"
        return
    assert outcome_of(thing, state, CALLERS[caller]) == expected


def test_an_archived_courses_exam_refuses_a_new_attempt_to_a_student_who_took_it() -> None:
    exam = facts({"course": "archived", "exam": "published"})
    with pytest.raises(CourseArchived):
        access.check_may_start(CALLERS["student"], exam, took_it_before=True)
    # To anyone else it does not exist, as for reading it.
    with pytest.raises(ExamNotFound):
        access.check_may_start(CALLERS["other_student"], exam)
    with pytest.raises(NotAllowed):
        access.check_may_start(CALLERS["owner"], exam)


def test_an_owner_change_moves_who_manages_the_exams() -> None:
    new_owner = Actor(uuid.uuid4(), Role.INSTRUCTOR)
    moved = ExamFacts(
        owner_id=new_owner.user_id, published=False, course_published=True, course_archived=False
    )
    access.check_exam_manageable(new_owner, moved)
    with pytest.raises(ExamNotFound):
        access.check_exam_manageable(CALLERS["owner"], moved)


def test_students_list_only_exams_open_to_them() -> None:
    assert access.exam_filter(CALLERS["student"]) == access.ExamFilter()
    assert access.exam_filter(CALLERS["owner"]).also_owner == OWNER
    assert access.exam_filter(CALLERS["demoted_owner"]).also_owner is None
    assert access.exam_filter(CALLERS["admin"]).everything
