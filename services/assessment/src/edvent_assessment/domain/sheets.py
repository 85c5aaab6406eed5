"""The answer sheet: every question of an attempt as it was served, with its answer.

An attempt's `answer_sheet` is a list of `SheetItem` documents, snapshotted when the
attempt starts (prompt, options, correct ids, points) and filled in when it closes
(`answer`, `correct`). Scoring and history read the sheet, never the live questions.
An adaptive attempt's sheet holds the questions served so far, in serving order: each
answer fills in its item (with the ability estimate after it) and appends the next one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, TypeAdapter


class SheetOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str


class SheetItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    question_id: UUID
    position: int
    prompt: str
    kind: str
    options: list[SheetOption]
    correct_option_ids: list[str]
    points: int
    difficulty: float = 0.0
    # Adaptive exams: the discrimination the question was served with (difficulty and
    # discrimination are the values selection used: calibrated ones once there are).
    discrimination: float | None = None
    # The option ids given; None while open, and for a question left unanswered.
    answer: list[str] | None = None
    # Whether the answer was right; None until the attempt is graded.
    correct: bool | None = None
    # Adaptive exams: the ability estimate and its standard error after this answer.
    ability: float | None = None
    standard_error: float | None = None


# One validation of the whole list instead of one call per item: every submit and
# every analytics update reads a sheet of 20 or more items.
_SHEET = TypeAdapter(list[SheetItem])


def load(document: list[dict[str, Any]]) -> list[SheetItem]:
    return _SHEET.validate_python(document)


def dump(items: list[SheetItem]) -> list[dict[str, Any]]:
    return _SHEET.dump_python(items, mode="json")  # type: ignore[no-any-return]
