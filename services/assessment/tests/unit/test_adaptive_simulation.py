"""The simulation: adaptive beats a fixed random form of the same bank (fixed seed)."""

from __future__ import annotations

import numpy as np

from edvent_assessment.domain.adaptive import (
    AdaptiveConfig,
    Bank,
    Response,
    next_step,
    selection_rng,
)
from edvent_assessment.domain.simulation import make_bank, simulate


def test_adaptive_is_more_precise_than_a_fixed_form_for_fewer_items() -> None:
    items = make_bank(size=200, model="2pl", seed=11)
    config = AdaptiveConfig(mode="adaptive", model="2pl")
    report = simulate(items=items, config=config, students=100, seed=7, compare_at=15)
    assert report.adaptive_at.rmse < report.fixed_at.rmse
    # The fixed 30-item form's precision, with clearly fewer items.
    assert report.items_to_match_fixed_full is not None
    assert report.items_to_match_fixed_full <= 0.75 * config.max_items
    assert report.adaptive.rmse < report.fixed.rmse
    assert report.mean_items < config.max_items
    assert 0 < report.exposure_max <= 1 and 0 <= report.never_used < 1


def take(
    bank: Bank, settings: AdaptiveConfig, *, attempt: str, answers: dict[str, bool]
) -> list[tuple[str, float]]:
    """Serve items until a stop rule holds; each item with the standard error after it."""
    responses: list[Response] = []
    path = []
    while True:
        step = next_step(
            bank=bank, config=settings, responses=responses,
            rng=selection_rng(seed=attempt, position=len(responses)),
        )  # fmt: skip
        if responses:
            path.append((responses[-1].item_id, step.estimate.standard_error))
        if step.next_item is None:
            return path
        responses.append(Response(step.next_item.id, answers[step.next_item.id]))


def test_a_stopped_attempt_is_a_prefix_of_the_full_length_run() -> None:
    """simulate() reads every length off one full run; the real stop rules agree."""
    items = make_bank(size=200, model="rasch", seed=1)
    bank = Bank(items, model="rasch")
    config = AdaptiveConfig(mode="adaptive", min_items=5, max_items=25, target_standard_error=0.45)
    full = config.model_copy(update={"min_items": config.max_items})
    rng = np.random.default_rng(2)
    for student in range(5):
        # The student answers an item the same way in both runs.
        truth = bank.probability_correct(float(rng.normal()))
        answers = {item.id: bool(rng.random() < truth[i]) for i, item in enumerate(bank.items)}
        stopped = take(bank, config, attempt=f"s{student}", answers=answers)
        whole = take(bank, full, attempt=f"s{student}", answers=answers)
        assert whole[: len(stopped)] == stopped
        expected = next(
            (n for n, (_, se) in enumerate(whole, 1) if n >= 5 and se <= 0.45), len(whole)
        )
        assert len(stopped) == expected
