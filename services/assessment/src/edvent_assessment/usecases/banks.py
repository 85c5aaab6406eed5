"""Item banks of published adaptive exams, built once and kept in memory.

A published exam's questions never change, so its bank (the engine's arrays and mirt
model, the costly part of a step) is built once per exam and calibration: the cache key
is the exam's id with its `calibrated_at`, which `calibrate` moves, so every instance
picks up new values at the next answer without a restart.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.db import exams as exams_db
from edvent_assessment.db.tables import Exam, Question
from edvent_assessment.domain.adaptive import Bank, IrtModel, Item
from edvent_assessment.domain.sheets import SheetItem, SheetOption


@dataclass(frozen=True)
class ExamBank:
    bank: Bank
    # Each question as served (its snapshot), by item id (the question's id as text).
    snapshots: dict[str, SheetItem]


def snapshot(
    question: Question, *, difficulty: float, discrimination: float | None = None
) -> SheetItem:
    """The question as served now, with the item parameters it is served with."""
    return SheetItem(
        question_id=question.id,
        position=question.position,
        prompt=question.prompt,
        kind=question.kind,
        options=[SheetOption.model_validate(option) for option in question.options],
        correct_option_ids=list(question.correct_option_ids),
        points=question.points,
        difficulty=difficulty,
        discrimination=discrimination,
    )


def item_parameters(question: Question, *, min_responses: int) -> tuple[float, float]:
    """The difficulty and discrimination selection uses: the calibrated ones once they
    rest on `min_responses` answers, else the author's (discrimination null is 1)."""
    if (
        question.calibrated_difficulty is not None
        and question.calibration_sample_size is not None
        and question.calibration_sample_size >= min_responses
    ):
        return question.calibrated_difficulty, question.calibrated_discrimination or 1.0
    return question.difficulty, question.discrimination or 1.0


def build(questions: list[Question], *, model: IrtModel, min_responses: int) -> ExamBank:
    items = []
    snapshots = {}
    for question in questions:
        difficulty, discrimination = item_parameters(question, min_responses=min_responses)
        items.append(Item(str(question.id), difficulty, discrimination))
        snapshots[str(question.id)] = snapshot(
            question,
            difficulty=difficulty,
            discrimination=discrimination if model == "2pl" else 1.0,
        )
    return ExamBank(Bank(items, model=model), snapshots)


class BankCache:
    def __init__(self, *, size: int, min_responses: int) -> None:
        self.size = size
        self.min_responses = min_responses
        self._banks: OrderedDict[tuple[UUID, datetime | None, str], ExamBank] = OrderedDict()

    async def get(self, session: AsyncSession, *, exam: Exam, model: IrtModel) -> ExamBank:
        key = (exam.id, exam.calibrated_at, model)
        found = self._banks.get(key)
        if found is not None:
            self._banks.move_to_end(key)
            return found
        # Two requests may build the same bank at once; both results are equal.
        built = build(
            await exams_db.questions(session, exam.id),
            model=model,
            min_responses=self.min_responses,
        )
        self._banks[key] = built
        while len(self._banks) > self.size:
            self._banks.popitem(last=False)
        return built
