"""Item statistics kept one attempt at a time equal a batch computation over the same
attempts (numpy and scipy on the whole response matrix), over 1,000 simulated attempts."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from scipy import stats

from edvent_assessment.domain import analytics
from edvent_assessment.domain.scoring import percent
from edvent_assessment.domain.sheets import SheetItem, SheetOption

QUESTIONS = 8


def simulate(attempts: int, *, seed: int = 7) -> tuple[list[SheetItem], np.ndarray, np.ndarray]:
    """Questions of mixed weights and difficulties, and a Rasch-like response matrix."""
    rng = np.random.default_rng(seed)
    questions = [
        SheetItem(
            question_id=uuid.uuid4(),
            position=index,
            prompt=f"Q{index}",
            kind="single_choice",
            options=[SheetOption(id=oid, text=oid) for oid in "abc"],
            correct_option_ids=["a"],
            points=int(rng.integers(1, 4)),
        )
        for index in range(QUESTIONS)
    ]
    ability = rng.normal(size=(attempts, 1))
    difficulty = rng.normal(size=(1, QUESTIONS))
    right = rng.random((attempts, QUESTIONS)) < 1 / (1 + np.exp(-(ability - difficulty)))
    # A wrong answer picks b or c.
    wrong_choice = rng.choice(["b", "c"], size=(attempts, QUESTIONS))
    return questions, right.astype(int), wrong_choice


def sheet(questions: list[SheetItem], row: np.ndarray, wrong: np.ndarray) -> list[SheetItem]:
    return [
        question.model_copy(
            update={"answer": ["a"] if row[i] else [str(wrong[i])], "correct": bool(row[i])}
        )
        for i, question in enumerate(questions)
    ]


def incremental(questions, right, wrong, *, order) -> analytics.Summary:
    document = analytics.load(None)
    weights = np.array([q.points for q in questions])
    for index in order:
        items = sheet(questions, right[index], wrong[index])
        score = percent(int(right[index] @ weights), int(weights.sum()))
        document = analytics.add_attempt(
            document, status="completed", score=score, passed=score >= 50, items=items
        )
        # As stored: through JSONB and back.
        document = analytics.load(document.model_dump(mode="json"))
    return analytics.summarise(document, question_ids=[q.question_id for q in questions])


def test_incremental_statistics_match_a_batch_computation_over_1000_attempts() -> None:
    questions, right, wrong = simulate(1000)
    order = np.random.default_rng(1).permutation(len(right))  # any arrival order
    summary = incremental(questions, right, wrong, order=order)

    weights = np.array([q.points for q in questions])
    scored = right * weights
    total = scored.sum(axis=1)
    for i, rate in enumerate(summary.questions):
        rest = total - scored[:, i]
        expected = stats.pointbiserialr(right[:, i], rest).statistic
        assert rate.discrimination == pytest.approx(expected, abs=1e-12)
        assert rate.correct_rate == pytest.approx(right[:, i].mean())
        chosen = np.where(right[:, i] == 1, "a", wrong[:, i])
        assert rate.option_counts == {oid: int((chosen == oid).sum()) for oid in "abc"}
    k = QUESTIONS
    alpha = k / (k - 1) * (1 - scored.var(axis=0, ddof=1).sum() / total.var(ddof=1))
    assert summary.reliability_alpha == pytest.approx(alpha, abs=1e-12)
    scores = total * 100 // weights.sum()
    counts = np.bincount(np.minimum(scores // 10, 9), minlength=10)
    assert [b.count for b in summary.score_histogram] == counts.tolist()
    assert [(b.lower, b.upper) for b in summary.score_histogram][-1] == (90, 100)


def test_statistics_that_need_more_attempts_are_null_not_zero() -> None:
    questions, right, wrong = simulate(1)
    summary = incremental(questions, right, wrong, order=[0])
    assert summary.reliability_alpha is None
    assert all(rate.discrimination is None for rate in summary.questions)
    empty = analytics.summarise(analytics.load(None), question_ids=[questions[0].question_id])
    assert empty.reliability_alpha is None
    assert empty.questions[0].discrimination is None
    assert [b.count for b in empty.score_histogram] == [0] * 10


def test_a_question_everyone_gets_right_has_no_discrimination() -> None:
    questions, right, wrong = simulate(50)
    right[:, 0] = 1
    summary = incremental(questions, right, wrong, order=range(50))
    assert summary.questions[0].discrimination is None
    assert summary.questions[1].discrimination is not None


def test_expired_attempts_are_left_out_of_the_statistics() -> None:
    questions, _, _ = simulate(3)
    document = analytics.add_attempt(
        analytics.load(None), status="expired", score=0, passed=False, items=questions
    )
    summary = analytics.summarise(document, question_ids=[q.question_id for q in questions])
    assert summary.attempts_expired == 1
    assert all(b.count == 0 for b in summary.score_histogram)
    assert summary.questions[0].option_counts == {}


def test_adaptive_exams_have_no_alpha() -> None:
    questions, right, wrong = simulate(100)
    document = analytics.load(None)
    for row, choice in zip(right, wrong, strict=True):
        document = analytics.add_attempt(
            document, status="completed", score=50, passed=True, items=sheet(questions, row, choice)
        )
    ids = [q.question_id for q in questions]
    assert analytics.summarise(document, question_ids=ids).reliability_alpha is not None
    assert analytics.summarise(document, question_ids=ids, adaptive=True).reliability_alpha is None
