"""The contract's visibility cases (tests-e2e/access_cases.yaml) that concern content,
run against `domain/access.py`: courses, managing them, and lessons."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from edvent_content.domain import access
from edvent_content.domain.access import Actor, CourseFacts
from edvent_content.domain.errors import CourseNotFound, LessonNotFound, NotAllowed

CASES_FILE = Path(__file__).resolve().parents[4] / "tests-e2e" / "access_cases.yaml"
THINGS = ("course", "manage_course", "lesson")

OWNER = uuid.uuid4()
CALLERS: dict[str, Actor | None] = {
    "anonymous": None,
    "student": Actor(uuid.uuid4(), "STUDENT"),
    "other_student": Actor(uuid.uuid4(), "STUDENT"),
    "owner": Actor(OWNER, "INSTRUCTOR"),
    "other_instructor": Actor(uuid.uuid4(), "INSTRUCTOR"),
    "admin": Actor(uuid.uuid4(), "ADMIN"),
    # The role that counts after the demotion (usecases.users.actor_for), whatever the
    # older token says.
    "demoted_owner": Actor(OWNER, "STUDENT"),
}


def _cases() -> list[Any]:
    document = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    return [
        pytest.param(case, caller, outcome, id=f"{case['thing']}-{case['state']}-{caller}")
        for case in document["cases"]
        if case["thing"] in THINGS
        for caller, outcome in case["outcomes"].items()
    ]


def _course(state: dict[str, str]) -> CourseFacts:
    course = state["course"]
    return CourseFacts(
        owner_id=OWNER,
        is_published=course in ("published", "archived"),
        archived=course == "archived",
    )


def _outcome(thing: str, state: dict[str, str], actor: Actor | None) -> str:
    course = _course(state)
    try:
        if thing == "course":
            access.check_course_visible(actor, course)
            return "visible"
        if thing == "lesson":
            access.check_lesson_visible(actor, course, published=state["lesson"] == "published")
            return "visible"
        if actor is None:
            # Every changing route needs a signed-in caller (`api.deps.SignedIn`).
            return "unauthorized"
        access.check_course_manageable(actor, course)
        return "allowed"
    except (CourseNotFound, LessonNotFound):
        return "not_found"
    except NotAllowed:
        return "forbidden"


@pytest.mark.parametrize(("case", "caller", "expected"), _cases())
def test_content_follows_the_contracts_case(case: Any, caller: str, expected: str) -> None:
    assert _outcome(case["thing"], case["state"], CALLERS[caller]) == expected


def test_the_cases_cover_every_thing_and_caller_of_content() -> None:
    document = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    ours = [case for case in document["cases"] if case["thing"] in THINGS]
    assert {case["thing"] for case in ours} == set(THINGS)
    for case in ours:
        assert set(case["outcomes"]) == set(CALLERS), case


def test_lists_filter_archived_courses_like_the_single_read() -> None:
    # The SQL filter (`db.courses._listed`) is `CourseFacts.listed`; the list tests of
    # the integration suite run it.
    archived = CourseFacts(owner_id=OWNER, is_published=True, archived=True)
    assert not archived.listed
    assert CourseFacts(owner_id=OWNER, is_published=True).listed
