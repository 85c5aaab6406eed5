"""The simulation: adaptive against a designed fixed form of the same bank (fixed seed)."""

from __future__ import annotations

import numpy as np

from edvent_assessment.domain.adaptive import (
    AdaptiveConfig,
    Bank,
    Response,
    estimate_ability,
    next_step,
    selection_rng,
)
from edvent_assessment.domain.simulation import (
    designed_form,
    items_to_precision,
    make_bank,
    prefix_estimates,
    simulate,
)


def test_adaptive_pays_at_the_extremes_and_design_pays_everywhere() -> None:
    items = make_bank(size=200, model="2pl", seed=11)
    config = AdaptiveConfig(mode="adaptive", model="2pl")
    report = simulate(items=items, config=config, students=100, seed=7, compare_at=15)
    # A form built for N(0, 1) is weakest far from 0, where adaptive keeps choosing well.
    assert report.adaptive_at.rmse_extreme < report.fixed_at.rmse_extreme
    # Designing the form from the item parameters beats drawing it at random.
    assert report.fixed_at.rmse < report.random_at.rmse
    assert report.fixed.rmse < report.random.rmse
    assert report.mean_items < config.max_items
    assert 0 < report.exposure_max <= 1 and 0 <= report.never_used < 1


def test_the_designed_form_is_the_most_informative_over_the_population() -> None:
    bank = Bank(make_bank(size=50, model="2pl", seed=3), model="2pl")
    form = designed_form(bank, length=10)
    grid = np.linspace(-4, 4, 801)
    density = np.exp(-(grid**2) / 2)
    expected = sum(d * bank.information(float(t)) for t, d in zip(grid, density, strict=True))
    assert set(form.tolist()) == set(np.argsort(-expected)[:10].tolist())
    assert list(expected[form]) == sorted(expected[form], reverse=True)


def test_prefix_estimates_are_the_engines_estimates() -> None:
    for model in ("rasch", "2pl"):
        bank = Bank(make_bank(size=100, model=model, seed=5), model=model)
        config = AdaptiveConfig(mode="adaptive", model=model)
        form = designed_form(bank, length=25)
        answers = np.random.default_rng(1).random(25) < bank.probability_correct(1.3)[form]
        abilities, errors = prefix_estimates(bank, config, form, answers)
        for length in (1, 7, 25):
            responses = [
                Response(bank.items[position].id, bool(correct))
                for position, correct in zip(form[:length], answers[:length], strict=True)
            ]
            engine = estimate_ability(bank=bank, config=config, responses=responses)
            assert abs(abilities[length - 1] - engine.ability) < 1e-9
            assert abs(errors[length - 1] - engine.standard_error) < 1e-9


def test_items_to_precision_counts_items_until_the_target() -> None:
    config = AdaptiveConfig(mode="adaptive", model="2pl")
    rows = items_to_precision(
        items=make_bank(size=100, model="2pl", seed=2), config=config, abilities=[0.0, 2.5],
        per_ability=3, target=0.5, max_items=40, seed=4,
    )  # fmt: skip
    middle, high = rows
    assert middle.adaptive_reached == 1 and middle.fixed_reached == 1
    # SE 0.5 is information 4 (less the prior's 1): a few informative items, not one.
    # At the centre the designed form is as good as adaptive (randomesque even costs it).
    assert 2 <= middle.adaptive_items <= 40 and 2 <= middle.fixed_items <= 40
    # Far from the form's centre it needs more items than adaptive does.
    assert high.adaptive_items < high.fixed_items or high.fixed_reached < 1


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
