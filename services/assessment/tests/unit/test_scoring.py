"""Grading is pure: a table of submissions and the score and verdict each earns."""

from __future__ import annotations

import uuid

import pytest

from edvent_assessment.domain.errors import InvalidAnswers
from edvent_assessment.domain.scoring import Answer, grade, percent, unanswered
from edvent_assessment.domain.sheets import SheetItem, SheetOption

Q1, Q2, Q3 = (uuid.UUID(int=i) for i in (1, 2, 3))
OPTIONS = [SheetOption(id=oid, text=oid.upper()) for oid in ("a", "b", "c", "d")]


def item(question_id: uuid.UUID, kind: str, correct: list[str], points: int) -> SheetItem:
    return SheetItem(
        question_id=question_id, position=question_id.int, prompt="?", kind=kind,
        options=OPTIONS, correct_option_ids=correct, points=points,
    )  # fmt: skip


# single b (1 point), multiple {a, c} (2 points), single d (3 points): 6 points in all
SHEET = [
    item(Q1, "single_choice", ["b"], 1),
    item(Q2, "multiple_choice", ["a", "c"], 2),
    item(Q3, "single_choice", ["d"], 3),
]


def answers(**given: str) -> list[Answer]:
    ids = {"q1": Q1, "q2": Q2, "q3": Q3}
    return [Answer(ids[name], tuple(value)) for name, value in given.items()]


@pytest.mark.parametrize(
    ("given", "score", "passed", "correct"),
    [
        ({"q1": "b", "q2": "ac", "q3": "d"}, 100, True, [True, True, True]),
        ({"q1": "b", "q2": "ca", "q3": "d"}, 100, True, [True, True, True]),  # order is no matter
        ({"q3": "d"}, 50, True, [False, False, True]),  # left out: wrong
        ({"q1": "b", "q2": "ac"}, 50, True, [True, True, False]),
        ({"q1": "b", "q2": "a", "q3": "c"}, 16, False, [True, False, False]),  # 16.7 rounds down
        ({"q2": "acd"}, 0, False, [False, False, False]),  # a superset is wrong
        ({"q2": "ac", "q1": "a"}, 33, False, [False, True, False]),
        ({}, 0, False, [False, False, False]),
    ],
)
def test_grading(given, score, passed, correct) -> None:
    graded = grade(SHEET, answers(**given), passing_percent=50)
    assert graded.score == score
    assert graded.passed is passed
    assert [entry.correct for entry in graded.items] == correct
    assert graded.possible == 6
    assert [entry.answer for entry in graded.items] == [
        list(given[name]) if name in given else None for name in ("q1", "q2", "q3")
    ]


@pytest.mark.parametrize(
    ("passing", "score", "passed"), [(0, 0, True), (100, 100, True), (67, 66, False)]
)
def test_passing_is_score_at_least_the_passing_percent(passing, score, passed) -> None:
    given = {"q1": "b", "q2": "ac", "q3": "d"} if score == 100 else {}
    if score == 66:
        given = {"q1": "b", "q3": "d"}
    graded = grade(SHEET, answers(**given), passing_percent=passing)
    assert (graded.score, graded.passed) == (score, passed)


@pytest.mark.parametrize(
    ("given", "loc_field", "message"),
    [
        ([Answer(uuid.UUID(int=99), ("a",))], "question_id", "not a question"),
        ([Answer(Q1, ("a",)), Answer(Q1, ("b",))], "question_id", "answered twice"),
        ([Answer(Q1, ("z",))], "option_ids", "not options"),
        ([Answer(Q1, ("a", "b"))], "option_ids", "takes one option"),
        ([Answer(Q1, ("a", "a"))], "option_ids", "given twice"),
        ([Answer(Q2, ("a", "a"))], "option_ids", "given twice"),
        ([Answer(Q1, ())], "option_ids", "at least one"),
        ([Answer(Q2, ())], "option_ids", "at least one"),
    ],
)
def test_malformed_answers_are_refused_with_their_place(given, loc_field, message) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        grade(SHEET, given, passing_percent=50)
    (error,) = raised.value.errors
    assert error["loc"][:2] == ["body", "answers"]
    assert error["loc"][3] == loc_field
    assert message in error["msg"]


def test_every_malformed_answer_is_listed() -> None:
    with pytest.raises(InvalidAnswers) as raised:
        grade(SHEET, [Answer(Q1, ("z",)), Answer(Q2, ()), Answer(Q3, ("d",))], passing_percent=0)
    assert [error["loc"][2] for error in raised.value.errors] == [0, 1]


def test_percent_rounds_down_and_survives_no_points() -> None:
    assert percent(2, 3) == 66
    assert percent(0, 0) == 0


def test_an_unanswered_sheet_is_all_wrong() -> None:
    assert [(e.answer, e.correct) for e in unanswered(SHEET)] == [(None, False)] * 3
