"""Item calibration: difficulties (and 2PL discriminations) estimated from the answers of
completed attempts, by mirt's marginal maximum likelihood (EM). No I/O.

Adaptive attempts leave most of the attempt-by-item matrix empty. Which items a student saw
depends only on their earlier answers, so the gaps are missing at random and marginal
likelihood may ignore them: each attempt contributes the items it answered. Joint maximum
likelihood would not do here (it is biased on short, adaptive response strings).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import mirt
import numpy as np

from edvent_assessment.domain.adaptive import IrtModel, Item, Response

# A Rasch difficulty from 100 answers has a 95% interval of about ±0.4 logit
# (Linacre, "Sample size and item calibration stability", 1994).
DEFAULT_MIN_RESPONSES = 100


@dataclass(frozen=True)
class CalibratedItem:
    """An item's author values beside the calibrated ones. `difficulty` and
    `discrimination` are what selection should use: the estimates when `calibrated`, the
    author's values otherwise."""

    item_id: str
    author_difficulty: float
    author_discrimination: float
    difficulty: float
    discrimination: float
    sample_size: int
    calibrated: bool


@dataclass(frozen=True)
class Calibration:
    """Every item of the exam, and the students' ability sd on the items' scale (None
    when nothing was estimated): a sensible `prior_sd` for the exam's adaptive config."""

    items: list[CalibratedItem]
    ability_sd: float | None


def calibrate(
    *,
    items: Sequence[Item],
    attempts: Sequence[Sequence[Response]],
    model: IrtModel,
    min_responses: int = DEFAULT_MIN_RESPONSES,
) -> Calibration:
    """Estimate the items' parameters from completed attempts (each one's responses).

    Only items with at least `min_responses` answers, not all of them right or all wrong,
    are estimated; the others keep the author's values. Answers to items not in `items`
    (questions deleted since) are ignored. The scale's origin is the mean ability of the
    students who took the exam; its unit is the logit for Rasch, and the students' sd for
    2PL.
    """
    index = {item.id: position for position, item in enumerate(items)}
    counts: Counter[str] = Counter()
    rights: Counter[str] = Counter()
    for attempt in attempts:
        for response in attempt:
            if response.item_id in index:
                counts[response.item_id] += 1
                rights[response.item_id] += int(response.correct)
    # An item everyone got right (or wrong) has no finite difficulty.
    fitted = [
        item
        for item in items
        if counts[item.id] >= min_responses and 0 < rights[item.id] < counts[item.id]
    ]
    estimates: dict[str, tuple[float, float]] = {}
    ability_sd = None
    if len(fitted) >= 2:
        estimates, ability_sd = _fit(fitted, attempts, model=model)
    result = []
    for item in items:
        author_a = item.discrimination if model == "2pl" else 1.0
        difficulty, discrimination = estimates.get(item.id, (item.difficulty, author_a))
        result.append(
            CalibratedItem(
                item_id=item.id,
                author_difficulty=item.difficulty,
                author_discrimination=author_a,
                difficulty=difficulty,
                discrimination=discrimination,
                sample_size=counts[item.id],
                calibrated=item.id in estimates,
            )
        )
    return Calibration(items=result, ability_sd=ability_sd)


def _fit(
    items: Sequence[Item], attempts: Sequence[Sequence[Response]], *, model: IrtModel
) -> tuple[dict[str, tuple[float, float]], float]:
    column = {item.id: position for position, item in enumerate(items)}
    rows = []
    for attempt in attempts:
        row = np.full(len(items), np.nan)
        for response in attempt:
            if response.item_id in column:
                row[column[response.item_id]] = float(response.correct)
        if not np.isnan(row).all():
            rows.append(row)
    # Rasch: a 2PL whose slopes are tied to one common value a, with abilities N(0, 1).
    # That is the Rasch model with abilities N(0, a²) (a(θ - b) = aθ - ab), so its logit
    # difficulties are a·b. mirt's "1PL" would fix a = 1 and so the abilities' sd at 1,
    # which shrinks the difficulties whenever the students' spread is not 1 logit.
    tied = [("discrimination", list(range(len(items))))] if model == "rasch" else None
    result = mirt.fit_mirt(
        np.vstack(rows), model="2PL", constraints=tied, compute_standard_errors=False
    )
    parameters = result.model.parameters
    difficulty = np.asarray(parameters["difficulty"], dtype=np.float64)
    discrimination = np.asarray(parameters["discrimination"], dtype=np.float64).reshape(-1)
    ability_sd = 1.0
    if model == "rasch":
        ability_sd = float(discrimination[0])
        difficulty = difficulty * discrimination
        discrimination = np.ones_like(discrimination)
    estimates = {
        item.id: (float(difficulty[i]), float(discrimination[i]))
        for i, item in enumerate(items)
        if math.isfinite(difficulty[i]) and math.isfinite(discrimination[i])
    }
    return estimates, ability_sd
