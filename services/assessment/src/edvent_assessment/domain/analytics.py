"""An exam's analytics document, built one closed attempt at a time. No I/O.

Stored as JSONB, one per exam:
`{"completed": n, "expired": m, "score_sum": s, "passed": p,
  "questions": {"<question id>": {"seen": k, "correct": c, "n": .., "x": .., "r": ..,
                                   "rr": .., "xr": .., "options": {"<option id>": count}}},
  "n": .., "t": .., "tt": .., "histogram": [ten counts]}`.
Only submitted (`completed`) attempts count towards scores, pass rate, correct rates and
the item statistics; expired ones are counted apart (a student who never submitted says
nothing about how hard a question is).

The item statistics of classical test theory are kept as running sums of whole numbers
(points), so adding an attempt is exact and order does not matter, and the statistics
equal a batch computation over the same attempts (tests/unit/test_item_statistics.py
checks it against scipy over 1,000 simulated attempts):
- per question, with x = 1 when right and r = the rest of the score (the points earned
  on the other questions): n, Σx, Σr, Σr², Σxr give the point-biserial correlation
  (Pearson's r of x and r), the question's `discrimination`;
- per exam, with t = the points earned: n, Σt, Σt² and the questions' Σx give
  Cronbach's alpha, k/(k-1)·(1 - Σ var(item) / var(t)), each item scoring 0 or its points.
Documents written before these sums existed count them from their next attempt on
(`n` apart from `completed`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from edvent_assessment.domain.sheets import SheetItem

HISTOGRAM_BINS = 10
# The fewest submitted attempts a correlation or a variance can be taken over.
MIN_ATTEMPTS_FOR_STATISTICS = 2


class QuestionTally(BaseModel):
    seen: int = 0
    correct: int = 0
    points: int = 0  # the question's weight, as in the sheet
    # Running sums for the point-biserial, over the attempts since they existed (`n`).
    n: int = 0
    x: int = 0
    r: int = 0
    rr: int = 0
    xr: int = 0
    options: dict[str, int] = Field(default_factory=dict)


class AnalyticsDocument(BaseModel):
    completed: int = 0
    expired: int = 0
    score_sum: int = 0
    passed: int = 0
    questions: dict[str, QuestionTally] = Field(default_factory=dict)
    # Exam-level running sums of the earned points t, and the scores' histogram.
    n: int = 0
    t: int = 0
    tt: int = 0
    histogram: list[int] = Field(default_factory=lambda: [0] * HISTOGRAM_BINS)


class QuestionRate(BaseModel):
    question_id: UUID
    correct_rate: float | None
    discrimination: float | None = None
    option_counts: dict[str, int] = Field(default_factory=dict)
    # The author's IRT values and the calibrated ones beside them (null until calibrated).
    difficulty: float | None = None
    irt_discrimination: float | None = None
    calibrated_difficulty: float | None = None
    calibrated_discrimination: float | None = None
    calibration_sample_size: int | None = None


class HistogramBin(BaseModel):
    lower: int
    upper: int
    count: int


class Summary(BaseModel):
    attempts_completed: int
    attempts_expired: int
    average_score: float | None
    pass_rate: float | None
    reliability_alpha: float | None
    score_histogram: list[HistogramBin]
    questions: list[QuestionRate]


def histogram_bin(score: int) -> int:
    """Bins of 10 points; the last one also holds 100."""
    return min(max(score, 0) // 10, HISTOGRAM_BINS - 1)


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
    questions = {key: tally.model_copy(deep=True) for key, tally in document.questions.items()}
    total = sum(item.points for item in items if item.correct)
    for item in items:
        tally = questions.setdefault(str(item.question_id), QuestionTally())
        x = 1 if item.correct else 0
        rest = total - item.points * x
        tally.seen += 1
        tally.correct += x
        tally.points = item.points
        tally.n += 1
        tally.x += x
        tally.r += rest
        tally.rr += rest * rest
        tally.xr += x * rest
        for option in item.options:
            tally.options.setdefault(option.id, 0)
        for option_id in item.answer or []:
            tally.options[option_id] = tally.options.get(option_id, 0) + 1
    histogram = list(document.histogram)
    histogram[histogram_bin(score)] += 1
    return AnalyticsDocument(
        completed=document.completed + 1,
        expired=document.expired,
        score_sum=document.score_sum + score,
        passed=document.passed + (1 if passed else 0),
        questions=questions,
        n=document.n + 1,
        t=document.t + total,
        tt=document.tt + total * total,
        histogram=histogram,
    )


def point_biserial(tally: QuestionTally) -> float | None:
    """Pearson's r of right/wrong with the rest score; null when undefined."""
    n, x, r = tally.n, tally.x, tally.r
    if n < MIN_ATTEMPTS_FOR_STATISTICS:
        return None
    spread_x = n * x - x * x  # n² var(x), exact
    spread_r = n * tally.rr - r * r
    if spread_x <= 0 or spread_r <= 0:
        return None
    return (n * tally.xr - x * r) / math.sqrt(spread_x * spread_r)


def cronbach_alpha(document: AnalyticsDocument, *, question_ids: Sequence[UUID]) -> float | None:
    """Over the attempts every question was in (a fixed exam's); null when undefined."""
    n = document.n
    tallies = [document.questions.get(str(qid)) for qid in question_ids]
    k = len(tallies)
    if n < MIN_ATTEMPTS_FOR_STATISTICS or k < 2:
        return None
    if any(tally is None or tally.n != n for tally in tallies):
        return None
    # n² var, exact: an item scoring 0 or w has n² var = w² (n·Σx - (Σx)²).
    item_spread = sum(
        tally.points * tally.points * (n * tally.x - tally.x * tally.x)
        for tally in tallies
        if tally is not None
    )
    total_spread = n * document.tt - document.t * document.t
    if total_spread <= 0:
        return None
    return k / (k - 1) * (1 - item_spread / total_spread)


def summarise(
    document: AnalyticsDocument, *, question_ids: Sequence[UUID], adaptive: bool = False
) -> Summary:
    """The public shape: rates are fractions (0 to 1), the average a percent; null
    while no attempt was submitted. Questions in exam order. Adaptive attempts see
    different questions, so their alpha is null."""
    completed = document.completed

    def rate(question_id: UUID) -> QuestionRate:
        tally = document.questions.get(str(question_id))
        if tally is None:
            return QuestionRate(question_id=question_id, correct_rate=None)
        return QuestionRate(
            question_id=question_id,
            correct_rate=tally.correct / tally.seen if tally.seen else None,
            discrimination=point_biserial(tally),
            option_counts=dict(tally.options),
        )

    return Summary(
        attempts_completed=completed,
        attempts_expired=document.expired,
        average_score=document.score_sum / completed if completed else None,
        pass_rate=document.passed / completed if completed else None,
        reliability_alpha=None if adaptive else cronbach_alpha(document, question_ids=question_ids),
        score_histogram=[
            HistogramBin(
                lower=10 * index,
                upper=100 if index == HISTOGRAM_BINS - 1 else 10 * index + 9,
                count=count,
            )
            for index, count in enumerate(document.histogram)
        ],
        questions=[rate(qid) for qid in question_ids],
    )


def load(document: dict[str, Any] | None) -> AnalyticsDocument:
    return AnalyticsDocument.model_validate(document or {})
