"""domain/access.py against the platform's table of cases (tests-e2e/access_cases.yaml)
for the things ai-notes holds: notes, their failure reason, regenerate."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor, LessonFacts
from edvent_ai_notes.domain.errors import NotAllowed, NoteNotFound

CASES_FILE = Path(__file__).resolve().parents[4] / "tests-e2e" / "access_cases.yaml"
THINGS = ("note", "note_failure_reason", "regenerate_note")

OWNER = uuid.uuid4()
ACTORS: dict[str, Actor | None] = {
    "anonymous": None,
    "student": Actor(uuid.uuid4(), "STUDENT"),
    "other_student": Actor(uuid.uuid4(), "STUDENT"),
    "owner": Actor(OWNER, "INSTRUCTOR"),
    "other_instructor": Actor(uuid.uuid4(), "INSTRUCTOR"),
    "admin": Actor(uuid.uuid4(), "ADMIN"),
    # The role that counts is the one identity's event gave, not the old token's.
    "demoted_owner": Actor(OWNER, "STUDENT"),
}


def _cases() -> list[Any]:
    data = yaml.safe_load(CASES_FILE.read_text())
    return [
        pytest.param(case, caller, outcome, id=f"{case['thing']}-{state}-{caller}")
        for case in data["cases"]
        if case["thing"] in THINGS
        for state in ["-".join(f"{k}={v}" for k, v in case["state"].items())]
        for caller, outcome in case["outcomes"].items()
    ]


def _facts(state: dict[str, str]) -> LessonFacts:
    return LessonFacts(
        owner_id=OWNER,
        course_published=state["course"] in ("published", "archived"),
        course_archived=state["course"] == "archived",
        lesson_published=state["lesson"] == "published",
    )


def _outcome(thing: str, actor: Actor, facts: LessonFacts) -> str:
    try:
        if thing == "note":
            access.check_note_visible(actor, facts)
            return "visible"
        if thing == "note_failure_reason":
            access.check_note_visible(actor, facts)
            return "present" if access.sees_failure_details(actor, facts) else "absent"
        access.check_may_regenerate(actor, facts)
        return "allowed"
    except NoteNotFound:
        return "not_found"
    except NotAllowed:
        return "forbidden"


def _listed(actor: Actor, facts: LessonFacts) -> bool:
    """What the SQL filter of lists and searches does with `note_filter`, in Python."""
    rule = access.note_filter(actor)
    return (
        rule.everything
        or access.served_to_everyone(facts)
        or (rule.also_owner is not None and rule.also_owner == facts.owner_id)
    )


def test_the_case_table_has_cases_for_every_thing_ai_notes_holds() -> None:
    assert {p.values[0]["thing"] for p in _cases()} == set(THINGS)


@pytest.mark.parametrize(("case", "caller", "expected"), _cases())
def test_access_case(case: dict[str, Any], caller: str, expected: str) -> None:
    actor = ACTORS[caller]
    if actor is None:
        # Every notes route needs a token (the platform's CurrentUser, tests/integration).
        assert expected == "unauthorized"
        return
    facts = _facts(case["state"])
    assert _outcome(case["thing"], actor, facts) == expected
    if case["thing"] == "note":
        # Lists and searches leave out exactly what a read would answer 404 for.
        assert _listed(actor, facts) == (expected == "visible")


@pytest.mark.parametrize(
    "key",
    [
        "courses/{c}/lessons/{l}/abc.md",
    ],
)
def test_a_key_under_the_lessons_own_prefix_belongs(key: str) -> None:
    c, l_ = uuid.uuid4(), uuid.uuid4()
    assert access.content_key_belongs(key=key.format(c=c, l=l_), course_id=c, lesson_id=l_)


@pytest.mark.parametrize(
    "key",
    [
        "courses/{o}/lessons/{l}/abc.md",  # another course
        "courses/{c}/lessons/{o}/abc.md",  # another lesson
        "courses/{c}/lessons/{l}/",
        "courses/{c}/lessons/{l}/../../{o}/x.md",
        "courses/{c}/lessons/{l}/a/b.md",
        "lessons/{l}/abc.md",
        "/courses/{c}/lessons/{l}/abc.md",
        "courses/{c}/lessons/{l}",
        "courses/{c}/lessons/{l}x/abc.md",
    ],
)
def test_a_key_anywhere_else_does_not_belong(key: str) -> None:
    c, l_, o = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert not access.content_key_belongs(key=key.format(c=c, l=l_, o=o), course_id=c, lesson_id=l_)


def test_a_course_never_seen_is_a_draft_without_an_owner() -> None:
    facts = LessonFacts(
        owner_id=None, course_published=False, course_archived=False, lesson_published=True
    )
    assert not access.may_see_note(ACTORS["owner"], facts)  # type: ignore[arg-type]
    assert access.may_see_note(ACTORS["admin"], facts)  # type: ignore[arg-type]
