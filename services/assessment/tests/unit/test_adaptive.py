"""The CAT engine: settings, estimation, selection, stop rules, score."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from edvent_assessment.domain.adaptive import (
    AdaptiveConfig,
    Bank,
    EmptyBank,
    FixedConfig,
    Item,
    ItemAnsweredTwice,
    Response,
    StopReason,
    UnknownItem,
    estimate_ability,
    expected_score,
    next_step,
    parse_exam_config,
    replay,
    select_item,
    selection_rng,
)


def config(**settings: object) -> AdaptiveConfig:
    return AdaptiveConfig.model_validate({"mode": "adaptive", **settings})


def spread_bank(size: int = 41, model: str = "rasch") -> Bank:
    """Difficulties evenly from -3 to 3; 2PL discriminations alternate 0.8 and 1.6."""
    return Bank(
        [
            Item(id=f"q{i}", difficulty=-3 + 6 * i / (size - 1), discrimination=0.8 * (1 + i % 2))
            for i in range(size)
        ],
        model=model,  # type: ignore[arg-type]
    )


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# -- settings


def test_an_empty_config_is_a_fixed_exam() -> None:
    assert parse_exam_config({}) == FixedConfig()
    assert parse_exam_config({"mode": "fixed"}) == FixedConfig()


def test_adaptive_config_has_documented_defaults() -> None:
    parsed = parse_exam_config({"mode": "adaptive"})
    assert parsed == AdaptiveConfig(
        mode="adaptive",
        model="rasch",
        min_items=5,
        max_items=30,
        target_standard_error=0.4,
        start_ability=0.0,
        estimator="eap",
        prior_mean=0.0,
        prior_sd=1.0,
        exposure_top_k=5,
    )


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ({"mode": "adaptive", "min_items": 10, "max_items": 5}, ("adaptive", "max_items")),
        ({"mode": "adaptive", "max_items": 4}, ("adaptive", "max_items")),
        # min_items itself invalid: one error, at min_items only.
        ({"mode": "adaptive", "min_items": 0, "max_items": 5}, ("adaptive", "min_items")),
        ({"mode": "adaptive", "target_standard_error": 0}, ("adaptive", "target_standard_error")),
        ({"mode": "adaptive", "model": "3pl"}, ("adaptive", "model")),
        ({"mode": "adaptive", "min_items": 0}, ("adaptive", "min_items")),
        ({"mode": "adaptive", "prior_sd": -1}, ("adaptive", "prior_sd")),
        ({"mode": "adaptive", "exposure_top_k": 0}, ("adaptive", "exposure_top_k")),
        ({"mode": "adaptive", "estimator": "mle"}, ("adaptive", "estimator")),
        ({"mode": "adaptive", "max_itemz": 5}, ("adaptive", "max_itemz")),
        ({"mode": "adaptive", "min_items": True}, ("adaptive", "min_items")),
        ({"mode": "adaptive", "max_items": "30"}, ("adaptive", "max_items")),
        ({"mode": "fixed", "max_items": 5}, ("fixed", "max_items")),
        ({"mode": "sometimes"}, ()),
    ],
)
def test_a_bad_config_names_the_field(raw: dict[str, object], location: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as error:
        parse_exam_config(raw)
    assert [e["loc"] for e in error.value.errors()] == [location]


def test_config_is_immutable() -> None:
    with pytest.raises(ValidationError):
        config().min_items = 3  # type: ignore[misc]


@pytest.mark.parametrize(("difficulty", "discrimination"), [(float("nan"), 1.0), (0.0, 0.0)])
def test_an_item_needs_finite_difficulty_and_positive_discrimination(
    difficulty: float, discrimination: float
) -> None:
    with pytest.raises(ValueError, match="q1"):
        Item(id="q1", difficulty=difficulty, discrimination=discrimination)


def test_a_bank_rejects_an_item_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        Bank([Item("q", 0.0), Item("q", 1.0)], model="rasch")


# -- estimation


def test_before_any_answer_the_estimate_is_the_prior() -> None:
    estimate = estimate_ability(
        bank=spread_bank(), config=config(prior_mean=0.5, prior_sd=2), responses=[]
    )
    assert (estimate.ability, estimate.standard_error) == (0.5, 2)


@pytest.mark.parametrize("estimator", ["eap", "map"])
@pytest.mark.parametrize("model", ["rasch", "2pl"])
def test_a_right_answer_raises_the_estimate_and_a_wrong_one_lowers_it(
    estimator: str, model: str
) -> None:
    bank = spread_bank(model=model)
    settings = config(estimator=estimator, model=model)
    so_far = [Response("q10", True), Response("q20", False), Response("q15", True)]
    before = estimate_ability(bank=bank, config=settings, responses=so_far).ability
    for item in ("q5", "q21", "q35"):
        right = estimate_ability(
            bank=bank, config=settings, responses=[*so_far, Response(item, True)]
        ).ability
        wrong = estimate_ability(
            bank=bank, config=settings, responses=[*so_far, Response(item, False)]
        ).ability
        assert wrong < before < right


@pytest.mark.parametrize("estimator", ["eap", "map"])
def test_the_standard_error_shrinks_as_answers_come_in(estimator: str) -> None:
    bank = spread_bank()
    settings = config(estimator=estimator)
    answers = [Response(f"q{i}", i % 3 != 0) for i in range(10, 31)]
    errors = [e.standard_error for e in replay(bank=bank, config=settings, responses=answers)]
    assert errors[0] < settings.prior_sd
    assert all(later < earlier for earlier, later in itertools.pairwise(errors))


def test_eap_estimates_match_a_direct_quadrature() -> None:
    bank = spread_bank(model="2pl")
    answers = [Response("q12", True), Response("q25", False), Response("q31", True)]
    estimate = estimate_ability(bank=bank, config=config(model="2pl"), responses=answers)
    grid = np.linspace(-8, 8, 4001)
    posterior = np.exp(-(grid**2) / 2)
    for response in answers:
        p = 1 / (1 + np.exp(-bank.discrimination[bank.index[response.item_id]]
                            * (grid - bank.difficulty[bank.index[response.item_id]])))  # fmt: skip
        posterior *= p if response.correct else 1 - p
    posterior /= posterior.sum()
    mean = float(grid @ posterior)
    sd = float(np.sqrt(((grid - mean) ** 2) @ posterior))
    assert estimate.ability == pytest.approx(mean, abs=1e-3)
    assert estimate.standard_error == pytest.approx(sd, abs=1e-3)


def test_responses_must_be_bank_items_answered_once() -> None:
    bank = spread_bank()
    with pytest.raises(UnknownItem):
        estimate_ability(bank=bank, config=config(), responses=[Response("nope", True)])
    with pytest.raises(ItemAnsweredTwice):
        estimate_ability(
            bank=bank, config=config(), responses=[Response("q1", True), Response("q1", False)]
        )


# -- information and selection


def test_information_peaks_where_ability_equals_difficulty() -> None:
    bank = spread_bank()
    for position in (3, 20, 37):
        assert int(np.argmax(bank.information(float(bank.difficulty[position])))) == position
    item = Bank([Item("q", 0.7)], model="rasch")
    grid = np.linspace(-4, 4, 801)
    curve = [float(item.information(float(theta))[0]) for theta in grid]
    assert grid[int(np.argmax(curve))] == pytest.approx(0.7, abs=0.01)
    assert max(curve) == pytest.approx(0.25)  # p(1 - p) at p = 1/2


def test_2pl_information_grows_with_the_square_of_discrimination() -> None:
    bank = Bank([Item("low", 0.0, 0.5), Item("high", 0.0, 2.0)], model="2pl")
    low, high = bank.information(0.0)
    assert high / low == pytest.approx(16)
    # Rasch ignores the author's discriminations.
    flat = Bank([Item("low", 0.0, 0.5), Item("high", 0.0, 2.0)], model="rasch")
    assert flat.information(0.0)[0] == pytest.approx(flat.information(0.0)[1])


def test_top_1_selects_the_most_informative_unserved_item() -> None:
    bank = spread_bank()
    picked = select_item(bank=bank, ability=0.0, served=[], top_k=1, rng=rng())
    assert picked is not None and picked.id == "q20"
    picked = select_item(bank=bank, ability=0.0, served=[20], top_k=1, rng=rng())
    assert picked is not None and picked.id in {"q19", "q21"}


def test_randomesque_draws_among_the_k_most_informative() -> None:
    bank = spread_bank()
    generator = rng()
    seen = {
        item.id
        for _ in range(200)
        if (item := select_item(bank=bank, ability=0.0, served=[], top_k=3, rng=generator))
    }
    assert seen == {"q19", "q20", "q21"}


def test_an_attempt_never_gets_an_item_twice_and_stops_when_the_bank_is_used_up() -> None:
    bank = spread_bank(size=12)
    settings = config(min_items=12, max_items=12, exposure_top_k=4)
    answers: list[Response] = []
    while (step := next_step(bank=bank, config=settings, responses=answers, rng=rng())).next_item:
        answers.append(Response(step.next_item.id, len(answers) % 2 == 0))
    assert sorted(r.item_id for r in answers) == sorted(item.id for item in bank.items)
    assert step.stop is StopReason.MAX_ITEMS
    bigger = config(min_items=20, max_items=20)
    last = next_step(bank=bank, config=bigger, responses=answers, rng=rng())
    assert (last.next_item, last.stop) == (None, StopReason.BANK_EXHAUSTED)


def test_the_first_item_is_chosen_for_the_start_ability() -> None:
    bank = spread_bank()
    step = next_step(
        bank=bank, config=config(start_ability=-2, exposure_top_k=1), responses=[], rng=rng()
    )
    assert step.stop is None and step.next_item is not None
    assert step.next_item.difficulty == pytest.approx(-2, abs=0.1)


# -- stop rules


def test_precision_stops_the_attempt_only_after_min_items() -> None:
    bank = spread_bank(size=200, model="2pl")
    settings = config(model="2pl", min_items=8, max_items=40, target_standard_error=0.9)
    answers = [Response(f"q{i}", i % 2 == 0) for i in range(95, 102)]  # 7 answers
    step = next_step(bank=bank, config=settings, responses=answers, rng=rng())
    assert step.estimate.standard_error <= 0.9
    assert step.stop is None and step.next_item is not None
    answers.append(Response(step.next_item.id, True))
    step = next_step(bank=bank, config=settings, responses=answers, rng=rng())
    assert (step.next_item, step.stop) == (None, StopReason.TARGET_STANDARD_ERROR)


def test_max_items_stops_an_imprecise_attempt() -> None:
    bank = spread_bank()
    settings = config(min_items=1, max_items=3, target_standard_error=0.01)
    answers = [Response("q20", True), Response("q25", False), Response("q22", True)]
    step = next_step(bank=bank, config=settings, responses=answers, rng=rng())
    assert (step.next_item, step.stop) == (None, StopReason.MAX_ITEMS)
    assert step.estimate == replay(bank=bank, config=settings, responses=answers)[-1]


def test_an_empty_bank_stops_at_once_and_has_no_score() -> None:
    bank = Bank([], model="rasch")
    step = next_step(bank=bank, config=config(), responses=[], rng=rng())
    assert step.stop is StopReason.BANK_EXHAUSTED
    with pytest.raises(EmptyBank):
        expected_score(bank=bank, ability=0.0)


# -- determinism, score, speed


def test_the_same_attempt_and_answers_get_the_same_items() -> None:
    bank = spread_bank(size=200)

    def run(seed: str) -> list[str]:
        answers: list[Response] = []
        while step := next_step(
            bank=bank,
            config=config(max_items=15),
            responses=answers,
            rng=selection_rng(seed=seed, position=len(answers)),
        ).next_item:
            answers.append(Response(step.id, int(step.id[1:]) % 3 != 0))
        return [r.item_id for r in answers]

    assert run("attempt-1") == run("attempt-1")
    assert run("attempt-1") != run("attempt-2")


def test_score_is_the_expected_percent_correct_over_the_bank() -> None:
    bank = spread_bank()  # symmetric around 0
    assert expected_score(bank=bank, ability=0.0) == 50
    scores = [expected_score(bank=bank, ability=theta) for theta in (-6, -1, 0.5, 2, 6)]
    assert scores == sorted(scores) and 0 <= scores[0] < 10 and 90 < scores[-1] <= 100
    by_hand = 100 * np.mean(1 / (1 + np.exp(-(1.0 - bank.difficulty))))
    assert expected_score(bank=bank, ability=1.0) == round(by_hand)
