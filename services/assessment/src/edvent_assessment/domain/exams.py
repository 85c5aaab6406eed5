"""Exams and their questions: the settings an exam carries and what makes a question valid."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edvent_assessment.domain.errors import InvalidInput


class ExamStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"


class ExamConfig(BaseModel):
    """`exams.config`. `{}` and `{"mode": "fixed"}` are the same exam: every question,
    in order, submitted at once. Other modes (adaptive) extend this model; a mode this
    version does not know is refused (422 at `config.mode`), never stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["fixed"] = Field(
        default="fixed", description="`fixed`: all questions, answered in one submission."
    )


def check_question(
    *, kind: str, option_ids: Sequence[str], correct_option_ids: Sequence[str]
) -> None:
    """Option ids unique; the correct ids unique and among them; one for single choice."""
    if len(set(option_ids)) != len(option_ids):
        raise InvalidInput("option ids must be unique within a question")
    if len(set(correct_option_ids)) != len(correct_option_ids):
        raise InvalidInput("correct_option_ids must not repeat an id")
    unknown = [oid for oid in correct_option_ids if oid not in set(option_ids)]
    if unknown:
        raise InvalidInput(f"correct_option_ids name ids that are not options: {unknown}")
    if not correct_option_ids:
        raise InvalidInput("a question needs at least one correct option")
    if kind == QuestionKind.SINGLE_CHOICE and len(correct_option_ids) != 1:
        raise InvalidInput("a single_choice question has exactly one correct option")
