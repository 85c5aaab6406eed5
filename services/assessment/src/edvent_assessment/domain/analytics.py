"""An exam's analytics document, built one closed attempt at a time. No I/O.

Stored as JSONB, one per exam:
`{"completed": n, "expired": m, "score_sum": s, "passed": p,
  "questions": {"<question id>": {"seen": k, "correct": c}}}`.
Only submitted (`completed`) attempts count towards scores, pass rate and correct
rates; expired ones are counted apart (a student who never submitted says nothing
about how hard a question is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from edvent_assessment.domain.sheets import SheetItem


class QuestionTally(BaseModel):
    seen: int = 0
    correct: int = 0


class AnalyticsDocument(BaseModel):
    completed: int = 0
    expired: int = 0
    score_sum: int = 0
    passed: int = 0
    questions: dict[str, QuestionTally] = Field(default_factory=dict)


class QuestionRate(BaseModel):
    question_id: UUID
    correct_rate: float | None
    # The author's IRT values and the calibrated ones beside them (null until calibrated).
    difficulty: float | None = None
    discrimination: float | None = None
    calibrated_difficulty: float | None = None
    calibrated_discrimination: float | None = None
    calibration_sample_size: int | None = None


class Summary(BaseModel):
    attempts_completed: int
    attempts_expired: int
    average_score: float | None
    pass_rate: float | None
    questions: list[QuestionRate]


def add_attempt(
    document: AnalyticsDocument,
    *,
    status: str,
    score: int,
    passed: bool,
    items: Sequence[SheetItem],
) -> AnalyticsDocument:
    if status != "completed":
        return document.model_copy(update={"expired": document.expired + 1})
    questions = {key: tally.model_copy() for key, tally in document.questions.items()}
    for item in items:
        tally = questions.setdefault(str(item.question_id), QuestionTally())
        tally.seen += 1
        tally.correct += 1 if item.correct else 0
    return AnalyticsDocument(
        completed=document.completed + 1,
        expired=document.expired,
        score_sum=document.score_sum + score,
        passed=document.passed + (1 if passed else 0),
        questions=questions,
    )


def summarise(document: AnalyticsDocument, *, question_ids: Sequence[UUID]) -> Summary:
    """The public shape: rates are fractions (0 to 1), the average a percent; null
    while no attempt was submitted. Questions in exam order."""
    completed = document.completed

    def rate(question_id: UUID) -> float | None:
        tally = document.questions.get(str(question_id))
        return tally.correct / tally.seen if tally and tally.seen else None

    return Summary(
        attempts_completed=completed,
        attempts_expired=document.expired,
        average_score=document.score_sum / completed if completed else None,
        pass_rate=document.passed / completed if completed else None,
        questions=[QuestionRate(question_id=qid, correct_rate=rate(qid)) for qid in question_ids],
    )


def load(document: dict[str, Any] | None) -> AnalyticsDocument:
    return AnalyticsDocument.model_validate(document or {})
