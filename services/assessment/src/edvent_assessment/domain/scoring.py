"""Grading a submission against an attempt's answer sheet. No I/O.

Single choice is right when its one option is the correct one; multiple choice only
when the set of options given equals the set of correct ones. Questions left out of
a submission are wrong. `score` is the percent of points earned, rounded down (so
69.9 % does not pass a 70 % exam); `passed` is `score >= passing_score_percent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from edvent_assessment.domain.errors import InvalidAnswers
from edvent_assessment.domain.exams import QuestionKind
from edvent_assessment.domain.sheets import SheetItem


@dataclass(frozen=True, slots=True)
class Answer:
    question_id: UUID
    option_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Graded:
    items: list[SheetItem]
    earned: int
    possible: int
    score: int
    passed: bool


def _error(index: int, field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", "answers", index, field], "msg": msg, "type": "value_error"}


def check_answers(sheet: Sequence[SheetItem], answers: Sequence[Answer]) -> None:
    """Raise `InvalidAnswers` listing every answer that does not fit the sheet."""
    by_id = {item.question_id: item for item in sheet}
    seen: set[UUID] = set()
    errors: list[dict[str, Any]] = []
    for index, answer in enumerate(answers):
        item = by_id.get(answer.question_id)
        if item is None:
            errors.append(_error(index, "question_id", "not a question of this attempt"))
            continue
        if answer.question_id in seen:
            errors.append(_error(index, "question_id", "this question is answered twice"))
            continue
        seen.add(answer.question_id)
        options = {option.id for option in item.options}
        unknown = [oid for oid in answer.option_ids if oid not in options]
        if unknown:
            errors.append(_error(index, "option_ids", f"not options of this question: {unknown}"))
        elif len(set(answer.option_ids)) != len(answer.option_ids):
            errors.append(_error(index, "option_ids", "an option is given twice"))
        elif not answer.option_ids:
            errors.append(
                _error(index, "option_ids", "give at least one option, or leave the question out")
            )
        elif item.kind == QuestionKind.SINGLE_CHOICE and len(answer.option_ids) != 1:
            errors.append(_error(index, "option_ids", "a single_choice question takes one option"))
    if errors:
        raise InvalidAnswers(errors)


def is_correct(item: SheetItem, option_ids: Sequence[str]) -> bool:
    return set(option_ids) == set(item.correct_option_ids)


def percent(earned: int, possible: int) -> int:
    return earned * 100 // possible if possible else 0


def grade(sheet: Sequence[SheetItem], answers: Sequence[Answer], *, passing_percent: int) -> Graded:
    check_answers(sheet, answers)
    given = {answer.question_id: list(answer.option_ids) for answer in answers}
    items: list[SheetItem] = []
    earned = possible = 0
    for item in sheet:
        option_ids = given.get(item.question_id)
        correct = option_ids is not None and is_correct(item, option_ids)
        items.append(item.model_copy(update={"answer": option_ids, "correct": correct}))
        possible += item.points
        earned += item.points if correct else 0
    score = percent(earned, possible)
    return Graded(
        items=items, earned=earned, possible=possible, score=score, passed=score >= passing_percent
    )


def unanswered(sheet: Sequence[SheetItem]) -> list[SheetItem]:
    """The sheet of an attempt closed without a submission: nothing answered, all wrong."""
    return [item.model_copy(update={"answer": None, "correct": False}) for item in sheet]
