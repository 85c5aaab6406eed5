"""Calibration recovers the difficulties that generated a sparse, CAT-like response set."""

from __future__ import annotations

import numpy as np
import pytest

from edvent_assessment.domain.adaptive import Item, Response
from edvent_assessment.domain.calibration import calibrate


def responses(
    *,
    difficulty: np.ndarray,
    discrimination: np.ndarray,
    students: int,
    per_student: int,
    ability_sd: float,
    seed: int,
) -> list[list[Response]]:
    """Each student answers a random `per_student` of the items: most cells are missing."""
    rng = np.random.default_rng(seed)
    attempts = []
    for ability in rng.normal(0.0, ability_sd, students):
        served = rng.choice(difficulty.size, per_student, replace=False)
        p = 1 / (1 + np.exp(-discrimination[served] * (ability - difficulty[served])))
        correct = rng.random(per_student) < p
        attempts.append([Response(f"q{i}", bool(c)) for i, c in zip(served, correct, strict=True)])
    return attempts


def authored(size: int) -> list[Item]:
    # The author's guess: everything at 0 with discrimination 1, so recovery is the fit's.
    return [Item(id=f"q{i}", difficulty=0.0) for i in range(size)]


def test_rasch_calibration_recovers_the_generating_difficulties() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(0.0, 1.0, 40)
    attempts = responses(
        difficulty=truth, discrimination=np.ones(40), students=500, per_student=15,
        ability_sd=1.5, seed=4,
    )  # fmt: skip
    result = calibrate(items=authored(40), attempts=attempts, model="rasch", min_responses=100)
    assert all(item.calibrated for item in result.items)
    estimates = np.array([item.difficulty for item in result.items])
    assert np.corrcoef(estimates, truth)[0, 1] >= 0.9
    # On the logit scale whatever the students' spread: a slope near 1, an sd near 1.5.
    assert np.polyfit(truth, estimates, 1)[0] == pytest.approx(1.0, abs=0.15)
    assert result.ability_sd == pytest.approx(1.5, abs=0.2)
    assert sum(item.sample_size for item in result.items) == 500 * 15


def test_2pl_calibration_recovers_difficulties_and_discriminations() -> None:
    rng = np.random.default_rng(5)
    truth_b = rng.normal(0.0, 1.0, 40)
    truth_a = rng.lognormal(0.0, 0.3, 40)
    attempts = responses(
        difficulty=truth_b, discrimination=truth_a, students=1500, per_student=20,
        ability_sd=1.0, seed=6,
    )  # fmt: skip
    result = calibrate(items=authored(40), attempts=attempts, model="2pl", min_responses=100)
    assert np.corrcoef([i.difficulty for i in result.items], truth_b)[0, 1] >= 0.9
    assert np.corrcoef([i.discrimination for i in result.items], truth_a)[0, 1] >= 0.6


def test_items_with_too_few_or_uninformative_answers_keep_the_authors_values() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(0.0, 1.0, 10)
    attempts = responses(
        difficulty=truth, discrimination=np.ones(10), students=300, per_student=6,
        ability_sd=1.0, seed=8,
    )  # fmt: skip
    # q8: rarely answered; q9: everyone right; a deleted question's answers are ignored.
    attempts = [
        [r for r in attempt if r.item_id != "q8" or n < 20] for n, attempt in enumerate(attempts)
    ]
    attempts = [
        [Response(r.item_id, True) if r.item_id == "q9" else r for r in attempt]
        + [Response("deleted", False)]
        for attempt in attempts
    ]
    items = [Item(id=f"q{i}", difficulty=0.25 * i, discrimination=1.3) for i in range(10)]
    result = calibrate(items=items, attempts=attempts, model="rasch", min_responses=50)
    by_id = {item.item_id: item for item in result.items}
    for kept in ("q8", "q9"):
        item = by_id[kept]
        assert not item.calibrated
        assert (item.difficulty, item.discrimination) == (item.author_difficulty, 1.0)
    assert by_id["q8"].sample_size < 50 <= by_id["q9"].sample_size
    assert all(by_id[f"q{i}"].calibrated for i in range(8))
    assert "deleted" not in by_id


def test_nothing_is_estimated_without_enough_answers() -> None:
    attempts = [[Response("q0", True), Response("q1", False)]] * 10
    result = calibrate(items=authored(2), attempts=attempts, model="2pl", min_responses=100)
    assert result.ability_sd is None
    assert [(i.difficulty, i.sample_size, i.calibrated) for i in result.items] == [
        (0.0, 10, False),
        (0.0, 10, False),
    ]
