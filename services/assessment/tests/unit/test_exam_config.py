"""The exam settings (CONTRACT.md "Exam settings"): every key, its default, what it
takes and where a refusal points; and the window, review and shuffle rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from edvent_assessment.domain.exams import parse_config
from edvent_assessment.domain.settings import review_allowed, window_state
from edvent_assessment.domain.sheets import SheetItem, SheetOption
from edvent_assessment.domain.shuffle import arrange, shuffle_options

DEFAULTS = {
    "max_attempts": None,
    "grading": "highest",
    "review": "after_submit",
    "opens_at": None,
    "closes_at": None,
    "shuffle_questions": False,
    "shuffle_options": False,
}


@pytest.mark.parametrize("mode", ["fixed", "adaptive"])
def test_the_defaults_keep_the_old_behaviour(mode) -> None:
    dumped = parse_config({"mode": mode}).model_dump(mode="json")
    assert {key: dumped[key] for key in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize("mode", ["fixed", "adaptive"])
@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("max_attempts", 1, 1),
        ("max_attempts", 3.0, 3),
        ("max_attempts", None, None),
        ("grading", "highest", "highest"),
        ("grading", "latest", "latest"),
        ("grading", "first", "first"),
        ("grading", "average", "average"),
        ("review", "after_submit", "after_submit"),
        ("review", "after_close", "after_close"),
        ("review", "never", "never"),
        ("opens_at", "2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z"),
        ("closes_at", "2026-12-01T10:00:00+01:00", "2026-12-01T10:00:00+01:00"),
        ("shuffle_options", True, True),
    ],
)
def test_each_key_takes_its_values_in_both_modes(mode, key, value, stored) -> None:
    assert parse_config({"mode": mode, key: value}).model_dump(mode="json")[key] == stored


def test_fixed_exams_shuffle_questions() -> None:
    assert parse_config({"shuffle_questions": True}).shuffle_questions


@pytest.mark.parametrize("mode", ["fixed", "adaptive"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", 1001),
        ("max_attempts", "2"),
        ("max_attempts", True),
        ("max_attempts", 1.5),
        ("grading", "best"),
        ("review", "always"),
        ("opens_at", "2026-12-01T08:00:00"),  # no zone
        ("opens_at", "tomorrow"),
        ("closes_at", 5),
        ("shuffle_questions", "yes"),
        ("shuffle_options", 1),
    ],
)
def test_a_bad_value_is_refused_at_its_path(mode, key, value) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_config({"mode": mode, key: value})
    assert raised.value.errors()[0]["loc"][:2] == (mode, key)


@pytest.mark.parametrize("mode", ["fixed", "adaptive"])
def test_closes_at_must_follow_opens_at(mode) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_config(
            {"mode": mode, "opens_at": "2026-12-02T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"}
        )
    error = raised.value.errors()[0]
    assert error["loc"] == (mode, "closes_at")
    assert error["type"] == "closes_before_opening"


def test_an_adaptive_exam_refuses_shuffle_questions_with_a_reason() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_config({"mode": "adaptive", "shuffle_questions": True})
    error = raised.value.errors()[0]
    assert error["loc"] == ("adaptive", "shuffle_questions")
    assert "no question order" in error["msg"]


NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "expected"),
    [
        (None, None, "open"),
        (NOW + HOUR, None, "before"),
        (NOW - HOUR, NOW + HOUR, "open"),
        (NOW - HOUR, NOW, "closed"),  # closes_at itself is closed
        (None, NOW - HOUR, "closed"),
    ],
)
def test_the_window(opens_at, closes_at, expected) -> None:
    settings = parse_config({})
    settings = settings.model_copy(update={"opens_at": opens_at, "closes_at": closes_at})
    assert window_state(settings, now=NOW) == expected


@pytest.mark.parametrize(
    ("review", "attempt_closed", "exam_closed", "expected"),
    [
        ("after_submit", False, False, False),
        ("after_submit", True, False, True),
        ("after_close", True, False, False),
        ("after_close", True, True, True),
        ("after_close", False, True, False),
        ("never", True, True, False),
    ],
)
def test_the_review_policy(review, attempt_closed, exam_closed, expected) -> None:
    settings = parse_config({"review": review})
    assert (
        review_allowed(settings, attempt_closed=attempt_closed, exam_closed=exam_closed) == expected
    )


def items(count: int) -> list[SheetItem]:
    return [
        SheetItem(
            question_id=uuid.uuid4(),
            position=index,
            prompt=f"Q{index}",
            kind="single_choice",
            options=[SheetOption(id=oid, text=oid) for oid in "abcdef"],
            correct_option_ids=["a"],
            points=1,
        )
        for index in range(count)
    ]


def test_a_seed_reproduces_the_order_and_keeps_every_question_and_option() -> None:
    sheet = items(20)
    first = arrange(sheet, seed=42, questions=True, options=True)
    assert first == arrange(sheet, seed=42, questions=True, options=True)
    assert first != arrange(sheet, seed=43, questions=True, options=True)
    assert [item.question_id for item in first] != [item.question_id for item in sheet]
    assert sorted(item.position for item in first) == list(range(20))
    for item in first:
        assert sorted(option.id for option in item.options) == list("abcdef")
    assert any([o.id for o in item.options] != list("abcdef") for item in first)


def test_without_shuffling_the_order_is_the_authors() -> None:
    sheet = items(5)
    assert arrange(sheet, seed=42, questions=False, options=False) == sheet


def test_an_adaptive_question_keeps_its_option_order_whenever_served() -> None:
    item = items(1)[0]
    assert shuffle_options(item, seed=9) == shuffle_options(item, seed=9)
