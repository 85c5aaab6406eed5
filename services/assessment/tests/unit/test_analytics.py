"""The analytics document: counts, sums and per-question tallies."""

from __future__ import annotations

import uuid

from edvent_assessment.domain.analytics import AnalyticsDocument, add_attempt, load, summarise
from edvent_assessment.domain.sheets import SheetItem, SheetOption

Q1, Q2 = uuid.UUID(int=1), uuid.UUID(int=2)


def sheet(*correct: bool) -> list[SheetItem]:
    return [
        SheetItem(
            question_id=qid, position=i, prompt="?", kind="single_choice",
            options=[SheetOption(id="a", text="A")], correct_option_ids=["a"], points=1,
            answer=["a"], correct=right,
        )
        for i, (qid, right) in enumerate(zip((Q1, Q2), correct, strict=True))
    ]  # fmt: skip


def test_an_empty_document_has_no_rates() -> None:
    summary = summarise(load(None), question_ids=[Q1])
    assert summary.attempts_completed == 0
    assert summary.average_score is None and summary.pass_rate is None
    assert summary.questions[0].correct_rate is None


def test_completed_attempts_count_and_expired_ones_stand_apart() -> None:
    document = AnalyticsDocument()
    document = add_attempt(
        document, status="completed", score=100, passed=True, items=sheet(True, True)
    )
    document = add_attempt(
        document, status="completed", score=50, passed=False, items=sheet(True, False)
    )
    document = add_attempt(
        document, status="expired", score=0, passed=False, items=sheet(False, False)
    )
    summary = summarise(load(document.model_dump(mode="json")), question_ids=[Q2, Q1])
    assert summary.attempts_completed == 2
    assert summary.attempts_expired == 1
    assert summary.average_score == 75
    assert summary.pass_rate == 0.5
    assert [(q.question_id, q.correct_rate) for q in summary.questions] == [(Q2, 0.5), (Q1, 1.0)]


def test_adding_does_not_change_the_document_it_was_given() -> None:
    document = add_attempt(AnalyticsDocument(), status="completed", score=100, passed=True,
                           items=sheet(True, True))  # fmt: skip
    add_attempt(document, status="completed", score=0, passed=False, items=sheet(False, False))
    assert document.questions[str(Q1)].seen == 1
