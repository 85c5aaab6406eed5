"""Exam config and question rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edvent_assessment.domain.errors import InvalidInput
from edvent_assessment.domain.exams import check_question, parse_config


@pytest.mark.parametrize("document", [{}, {"mode": "fixed"}])
def test_fixed_config(document) -> None:
    assert parse_config(document).mode == "fixed"


def test_adaptive_config_takes_defaults() -> None:
    config = parse_config({"mode": "adaptive"})
    assert (config.mode, config.model, config.max_items) == ("adaptive", "rasch", 30)


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"mode": "other"}, ()),
        ({"x": 1}, ("fixed", "x")),
        ({"mode": "adaptive", "max_items": 0}, ("adaptive", "max_items")),
    ],
)
def test_other_configs_are_refused_at_their_field(document, loc) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_config(document)
    assert raised.value.errors()[0]["loc"] == loc


@pytest.mark.parametrize(
    ("kind", "options", "correct", "message"),
    [
        ("single_choice", ["a", "a"], ["a"], "unique"),
        ("single_choice", ["a", "b"], ["c"], "not options"),
        ("single_choice", ["a", "b"], ["a", "b"], "exactly one"),
        ("multiple_choice", ["a", "b"], ["a", "a"], "repeat"),
        ("multiple_choice", ["a", "b"], [], "at least one"),
    ],
)
def test_question_rules(kind, options, correct, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_question(kind=kind, option_ids=options, correct_option_ids=correct)


def test_a_valid_question_passes() -> None:
    check_question(
        kind="multiple_choice", option_ids=["a", "b", "c"], correct_option_ids=["a", "c"]
    )


def test_whole_numbers_written_as_floats_are_integers() -> None:
    # JSON has one number type; JSON Schema's `integer` takes 5.0.
    config = parse_config({"mode": "adaptive", "min_items": 2.0, "max_items": 4.0})
    assert (config.min_items, config.max_items) == (2, 4)
    assert isinstance(config.min_items, int)


@pytest.mark.parametrize("value", [2.5, "2", True])
def test_other_non_integers_are_still_refused(value) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_config({"mode": "adaptive", "min_items": value})
    assert raised.value.errors()[0]["loc"] == ("adaptive", "min_items")


@pytest.mark.parametrize(
    ("document", "minimum"),
    [
        ({"mode": "adaptive", "max_items": 3}, 5),
        ({"mode": "adaptive", "min_items": 10, "max_items": 5}, 10),
        ({"mode": "adaptive", "min_items": 10.0, "max_items": 9.0}, 10),
    ],
)
def test_max_items_below_min_items_is_refused_at_max_items(document, minimum) -> None:
    # Not adjusted: lowering min_items quietly would change what the instructor asked.
    with pytest.raises(ValidationError) as raised:
        parse_config(document)
    [error] = raised.value.errors()
    assert error["loc"] == ("adaptive", "max_items")
    assert error["type"] == "max_items_below_min_items"
    assert f"at least min_items ({minimum};" in error["msg"]
    assert "could never reach min_items" in error["msg"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"mode": "adaptive", "max_items": 5}, (5, 5)),
        ({"mode": "adaptive", "min_items": 5, "max_items": 5}, (5, 5)),
        ({"mode": "adaptive", "min_items": 2, "max_items": 5}, (2, 5)),
        ({"mode": "adaptive", "min_items": 1, "max_items": 1}, (1, 1)),
    ],
)
def test_max_items_at_or_above_min_items_is_kept_as_given(document, expected) -> None:
    config = parse_config(document)
    assert (config.min_items, config.max_items) == expected
