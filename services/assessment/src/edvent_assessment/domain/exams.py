"""Exams and their questions: the settings an exam carries and what makes a question valid."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from edvent_assessment.domain import adaptive
from edvent_assessment.domain.adaptive import AdaptiveConfig, FixedConfig
from edvent_assessment.domain.errors import InvalidInput


class ExamStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"


# One model of `exams.config` for the whole service: the adaptive module's union.
# `{}` and `{"mode": "fixed"}` are an ordinary exam (every question, submitted at once);
# `{"mode": "adaptive", ...}` serves one question at a time (docs/adaptive.md). A mode
# or key this version does not know is refused (422 with the field's path), never stored.
ExamConfig = adaptive.ExamConfig
AnyConfig = FixedConfig | AdaptiveConfig
parse_config = adaptive.parse_exam_config


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
