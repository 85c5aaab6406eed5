"""Computerized adaptive testing (CAT): settings, ability estimation, item selection, stop
rules and the score, as plain functions over an item bank. No I/O.

The numerics (item response functions, Fisher information, EAP and MAP scoring) are
mirt's; this module chooses among them and keeps the state the service stores: the list of
(item id, correct) answered so far. Everything else is recomputed from it, the same way
every time (see docs/adaptive.md for the psychometric choices).
"""

# Errors are named for what happened (ItemAnsweredTwice), like identity's.
# ruff: noqa: N818

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import numpy as np
from mirt.results.fit_result import FitResult
from mirt.scoring import EAPScorer, MAPScorer
from numpy.typing import NDArray
from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from edvent_assessment.domain.settings import ExamSettings, WholeNumber

IrtModel = Literal["rasch", "2pl"]

# Points of the Gauss-Hermite grid EAP integrates over: 61 keeps the estimate within
# 0.001 logit of a 201-point grid at CAT lengths, at a negligible cost.
QUADRATURE_POINTS = 61
# MAP's search interval; EAP needs none (the prior keeps it finite).
ABILITY_BOUNDS = (-6.0, 6.0)


class FixedConfig(ExamSettings):
    """An ordinary exam: every question at once, scored as the share answered correctly;
    with the settings every exam takes (`domain.settings`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["fixed"] = "fixed"


class AdaptiveConfig(ExamSettings):
    """An adaptive exam's settings (`exams.config` with `"mode": "adaptive"`)."""

    # Strict: `true` or `"5"` for min_items is a mistake in the exam, not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mode: Literal["adaptive"]
    model: IrtModel = Field(
        default="rasch",
        description="rasch: one parameter (difficulty b), every discrimination is 1; "
        "2pl: difficulty and discrimination a > 0.",
    )
    min_items: WholeNumber = Field(
        default=5,
        ge=1,
        le=500,
        description="No stop on precision before this many answers. At most max_items (else "
        "422 at max_items).",
    )
    max_items: WholeNumber = Field(
        default=30,
        ge=1,
        le=500,
        description="The attempt stops after this many answers. At least min_items (its "
        "default 5 included): else 422 at this field.",
    )
    target_standard_error: float = Field(
        default=0.4,
        gt=0,
        le=5,
        description="Stop once the ability's standard error is at or below this (logits); "
        "0.4 is a reliability of about 0.84 in a population with sd 1.",
    )
    start_ability: float = Field(
        default=0.0,
        ge=-6,
        le=6,
        description="The ability the first question is chosen for (logits).",
    )
    estimator: Literal["eap", "map"] = Field(
        default="eap",
        description="eap: the posterior mean and sd; map: the posterior mode and the "
        "inverse square root of the information there.",
    )
    prior_mean: float = Field(
        default=0.0, ge=-6, le=6, description="Mean of the normal prior on ability."
    )
    prior_sd: float = Field(
        default=1.0, gt=0, le=10, description="Standard deviation of the normal prior."
    )
    exposure_top_k: WholeNumber = Field(
        default=5,
        ge=1,
        le=50,
        description="Randomesque exposure control: the next question is drawn at random "
        "among the k most informative; 1 is pure maximum information.",
    )

    @field_validator("shuffle_questions")
    @classmethod
    def _no_question_order(cls, value: bool) -> bool:
        if value:
            raise PydanticCustomError(
                "shuffle_questions_adaptive",
                "an adaptive exam has no question order to shuffle: it chooses each "
                "question from the answers so far; leave shuffle_questions false "
                "(shuffle_options is allowed)",
            )
        return value

    @field_validator("max_items")
    @classmethod
    def _not_below_min_items(cls, value: int, info: ValidationInfo) -> int:
        # Refused, not adjusted: quietly lowering min_items would change the exam the
        # instructor asked for. (Absent from info.data when min_items itself is invalid.)
        minimum = info.data.get("min_items")
        if minimum is not None and value < minimum:
            raise PydanticCustomError(
                "max_items_below_min_items",
                "must be at least min_items ({min_items}; 5 when not given): an attempt "
                "stops after max_items answers, so it could never reach min_items; raise "
                "max_items or lower min_items",
                {"min_items": minimum, "max_items": value},
            )
        return value


def _mode(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get("mode", "fixed")
    return getattr(value, "mode", "fixed")


# `{}` and `{"mode": "fixed"}` are a fixed exam; `{"mode": "adaptive", ...}` an adaptive one.
ExamConfig = Annotated[
    Annotated[FixedConfig, Tag("fixed")] | Annotated[AdaptiveConfig, Tag("adaptive")],
    Discriminator(_mode),
]
EXAM_CONFIG: TypeAdapter[FixedConfig | AdaptiveConfig] = TypeAdapter(ExamConfig)


def parse_exam_config(raw: Any) -> FixedConfig | AdaptiveConfig:
    """`exams.config` as stored (a dict); raises pydantic's ValidationError with the path."""
    return EXAM_CONFIG.validate_python(raw)


class AdaptiveError(ValueError):
    """Base of the engine's errors: the responses do not fit the bank."""


class UnknownItem(AdaptiveError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} is not in the bank")
        self.item_id = item_id


class ItemAnsweredTwice(AdaptiveError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} is answered more than once")
        self.item_id = item_id


class EmptyBank(AdaptiveError):
    def __init__(self) -> None:
        super().__init__("the bank has no items")


@dataclass(frozen=True)
class Item:
    """A question as the engine sees it: IRT difficulty b (logits) and discrimination a."""

    id: str
    difficulty: float
    discrimination: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.difficulty):
            raise ValueError(f"item {self.id!r}: difficulty must be a finite number")
        if not (math.isfinite(self.discrimination) and self.discrimination > 0):
            raise ValueError(f"item {self.id!r}: discrimination must be > 0")


@dataclass(frozen=True)
class Response:
    """One answered item; the attempt's state is the list of these, in serving order."""

    item_id: str
    correct: bool


@dataclass(frozen=True)
class Estimate:
    ability: float
    standard_error: float


class StopReason(StrEnum):
    TARGET_STANDARD_ERROR = "target_standard_error"
    MAX_ITEMS = "max_items"
    BANK_EXHAUSTED = "bank_exhausted"


@dataclass(frozen=True)
class Step:
    """Where an attempt stands after its responses: the estimate, then either the next
    item to serve or why the attempt stops (exactly one of the two is set)."""

    estimate: Estimate
    next_item: Item | None
    stop: StopReason | None


class Bank:
    """An exam's items under one IRT model, built once and reused for every step (it holds
    the arrays and the mirt model; building it is the costly part)."""

    def __init__(self, items: Sequence[Item], *, model: IrtModel) -> None:
        self.items: tuple[Item, ...] = tuple(items)
        self.model: IrtModel = model
        self.index: dict[str, int] = {}
        for position, item in enumerate(self.items):
            if item.id in self.index:
                raise ValueError(f"item {item.id!r} appears twice in the bank")
            self.index[item.id] = position
        self.difficulty: NDArray[np.float64] = np.array(
            [item.difficulty for item in self.items], dtype=np.float64
        )
        # Rasch ignores an author's discrimination rather than rejecting it, so switching
        # an exam between the models needs no change to its questions.
        self.discrimination: NDArray[np.float64] = (
            np.ones(len(self.items))
            if model == "rasch"
            else np.array([item.discrimination for item in self.items], dtype=np.float64)
        )
        self._irt = _mirt_model(self.discrimination, self.difficulty) if self.items else None

    def __len__(self) -> int:
        return len(self.items)

    def positions(self, responses: Sequence[Response]) -> list[int]:
        """The bank positions of the answered items; unknown or repeated items raise."""
        seen: list[int] = []
        taken: set[int] = set()
        for response in responses:
            position = self.index.get(response.item_id)
            if position is None:
                raise UnknownItem(response.item_id)
            if position in taken:
                raise ItemAnsweredTwice(response.item_id)
            taken.add(position)
            seen.append(position)
        return seen

    def probability_correct(self, ability: float) -> NDArray[np.float64]:
        """P(correct | ability) for every item, in bank order."""
        return np.asarray(self._fitted().probability(np.array([[ability]]))[0], dtype=np.float64)

    def information(self, ability: float) -> NDArray[np.float64]:
        """Fisher information of every item at `ability`, in bank order."""
        return np.asarray(self._fitted().information(np.array([[ability]]))[0], dtype=np.float64)

    def _fitted(self) -> Any:
        if self._irt is None:
            raise EmptyBank
        return self._irt


def _mirt_model(discrimination: NDArray[np.float64], difficulty: NDArray[np.float64]) -> Any:
    # mirt builds a scoreable model from known parameters only through a fit result's
    # portable form; the fit statistics are required fields but play no part in scoring.
    payload = {
        "model": {
            "name": "2PL",
            "n_items": len(difficulty),
            "n_factors": 1,
            "item_names": [f"i{position}" for position in range(len(difficulty))],
            "n_categories": None,
        },
        "parameters": {
            "discrimination": discrimination.tolist(),
            "difficulty": difficulty.tolist(),
        },
        "log_likelihood": 0.0,
        "aic": 0.0,
        "bic": 0.0,
        "n_parameters": 2 * len(difficulty),
        "n_observations": 0,
        "converged": True,
        "n_iterations": 0,
    }
    return FitResult.from_dict(payload).model


def estimate_ability(
    *, bank: Bank, config: AdaptiveConfig, responses: Sequence[Response]
) -> Estimate:
    """The ability estimate and its standard error after `responses` (the prior before any)."""
    positions = bank.positions(responses)
    if not positions:
        return Estimate(ability=config.prior_mean, standard_error=config.prior_sd)
    pattern = np.full((1, len(bank)), -1, dtype=np.int64)  # mirt: negative is "not served"
    pattern[0, positions] = [int(response.correct) for response in responses]
    mean = np.array([config.prior_mean])
    covariance = np.array([[config.prior_sd**2]])
    scorer: EAPScorer | MAPScorer
    if config.estimator == "eap":
        scorer = EAPScorer(n_quadpts=QUADRATURE_POINTS, prior_mean=mean, prior_cov=covariance)
    else:
        scorer = MAPScorer(prior_mean=mean, prior_cov=covariance, theta_bounds=ABILITY_BOUNDS)
    result = scorer.score(bank._fitted(), pattern)
    return Estimate(ability=float(result.theta[0]), standard_error=float(result.standard_error[0]))


def select_item(
    *,
    bank: Bank,
    ability: float,
    served: Collection[int],
    top_k: int,
    rng: np.random.Generator,
) -> Item | None:
    """Maximum Fisher information at `ability` among the items not served, drawn at random
    among the `top_k` best (randomesque); None once every item was served."""
    information = bank.information(ability)
    available = np.ones(len(bank), dtype=bool)
    available[list(served)] = False
    candidates = np.flatnonzero(available)
    if candidates.size == 0:
        return None
    # Sorted by information, then bank position, so ties break the same way everywhere.
    order = np.lexsort((candidates, -information[candidates]))
    best = candidates[order[: min(top_k, candidates.size)]]
    return bank.items[int(best[rng.integers(best.size)])]


def next_step(
    *,
    bank: Bank,
    config: AdaptiveConfig,
    responses: Sequence[Response],
    rng: np.random.Generator,
) -> Step:
    """After `responses`: the estimate and the next item, or the stop rule that holds.

    Stop rules, in this order: standard error ≤ target once `min_items` are answered;
    `max_items` answered; no item left. The deadline is the caller's.
    """
    estimate = estimate_ability(bank=bank, config=config, responses=responses)
    answered = len(responses)
    if answered >= config.min_items and estimate.standard_error <= config.target_standard_error:
        return Step(estimate=estimate, next_item=None, stop=StopReason.TARGET_STANDARD_ERROR)
    if answered >= config.max_items:
        return Step(estimate=estimate, next_item=None, stop=StopReason.MAX_ITEMS)
    if answered >= len(bank):
        return Step(estimate=estimate, next_item=None, stop=StopReason.BANK_EXHAUSTED)
    ability = estimate.ability if responses else config.start_ability
    item = select_item(
        bank=bank,
        ability=ability,
        served=bank.positions(responses),
        top_k=config.exposure_top_k,
        rng=rng,
    )
    assert item is not None  # fewer answers than items: one is left
    return Step(estimate=estimate, next_item=item, stop=None)


def replay(*, bank: Bank, config: AdaptiveConfig, responses: Sequence[Response]) -> list[Estimate]:
    """The estimate after each response, as the answer sheet records them."""
    return [
        estimate_ability(bank=bank, config=config, responses=responses[: count + 1])
        for count in range(len(responses))
    ]


def selection_rng(*, seed: str, position: int) -> np.random.Generator:
    """The generator for choosing the item at `position` (0-based) of the attempt `seed`
    (its id): the same attempt and answers always get the same items."""
    digest = hashlib.sha256(f"{seed}:{position}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def expected_score(*, bank: Bank, ability: float) -> int:
    """The attempt's score: the expected percent correct over the whole bank at `ability`,
    rounded half up to an integer in 0..100."""
    percent = 100 * float(np.mean(bank.probability_correct(ability)))
    return min(100, max(0, math.floor(percent + 0.5)))
