"""Simulated students taking an adaptive exam through the engine's own functions, against
a fixed random form of the same bank: how precise each is, for how many items.

Each simulated student has a known ability drawn from N(0, 1) and answers item i correctly
with the model's probability at that ability. No I/O; `bench/adaptive.py` and the service's
CLI print its report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from edvent_assessment.domain.adaptive import (
    AdaptiveConfig,
    Bank,
    Estimate,
    IrtModel,
    Item,
    Response,
    estimate_ability,
    next_step,
    selection_rng,
)


@dataclass(frozen=True)
class Accuracy:
    """How far the estimates fall from the true abilities (logits)."""

    rmse: float
    bias: float

    @classmethod
    def of(cls, estimates: ArrayLike, truth: ArrayLike) -> Accuracy:
        errors = np.asarray(estimates) - np.asarray(truth)
        return cls(rmse=float(np.sqrt(np.mean(errors**2))), bias=float(np.mean(errors)))


@dataclass(frozen=True)
class SimulationReport:
    students: int
    bank_size: int
    config: AdaptiveConfig
    adaptive: Accuracy  # with the config's stop rules
    mean_items: float
    fixed_length: int  # the adaptive mean, rounded: the fixed form of the same length
    fixed: Accuracy
    compare_at: int
    adaptive_at: Accuracy  # both after exactly `compare_at` items
    fixed_at: Accuracy
    fixed_full: Accuracy  # the fixed form of max_items items
    items_to_match_fixed_full: int | None  # the first length where adaptive is as precise
    exposure_max: float  # the largest share of students any one item was served to
    never_used: float  # the share of the bank served to nobody
    step_ms: float  # mean time of one next_step


def make_bank(*, size: int, model: IrtModel, seed: int) -> list[Item]:
    """A bank like a well-made exam's: b ~ N(0, 1); for 2PL, a ~ lognormal(0, 0.3)."""
    rng = np.random.default_rng(seed)
    difficulties = rng.normal(0.0, 1.0, size)
    discriminations = rng.lognormal(0.0, 0.3, size) if model == "2pl" else np.ones(size)
    return [
        Item(id=f"item-{i:04d}", difficulty=float(b), discrimination=float(a))
        for i, (b, a) in enumerate(zip(difficulties, discriminations, strict=True))
    ]


def simulate(
    *,
    items: Sequence[Item],
    config: AdaptiveConfig,
    students: int,
    seed: int,
    compare_at: int = 15,
) -> SimulationReport:
    """Run `students` simulated students through the adaptive exam and the fixed form."""
    if not 1 <= compare_at <= config.max_items:
        raise ValueError("compare_at must be between 1 and max_items")
    bank = Bank(items, model=config.model)
    rng = np.random.default_rng(seed)
    abilities = rng.normal(0.0, 1.0, students)
    # One run per student to max_items, ignoring the precision rule: an attempt that
    # stops on it is a prefix of this run (selection depends only on the answers so far
    # and on selection_rng(attempt, position)), so every length is read off one run.
    full_length = config.model_copy(update={"min_items": config.max_items})
    paths: list[list[Estimate]] = []
    served: list[list[int]] = []
    steps = 0
    started = time.perf_counter()
    for student, ability in enumerate(abilities):
        truth = bank.probability_correct(float(ability))
        responses: list[Response] = []
        estimates: list[Estimate] = []
        while True:
            step = next_step(
                bank=bank,
                config=full_length,
                responses=responses,
                rng=selection_rng(seed=f"{seed}-{student}", position=len(responses)),
            )
            steps += 1
            if responses:
                estimates.append(step.estimate)
            if step.next_item is None:
                break
            position = bank.index[step.next_item.id]
            responses.append(Response(step.next_item.id, bool(rng.random() < truth[position])))
        paths.append(estimates)
        served.append([bank.index[response.item_id] for response in responses])
    step_ms = (time.perf_counter() - started) * 1000 / steps

    stops = [_stop_length(path, config) for path in paths]
    final = [path[stop - 1].ability for path, stop in zip(paths, stops, strict=True)]
    mean_items = float(np.mean(stops))
    fixed_length = max(1, min(config.max_items, round(mean_items)))

    exposure = np.zeros(len(bank))
    for positions, stop in zip(served, stops, strict=True):
        exposure[positions[:stop]] += 1
    exposure /= students

    form = rng.choice(len(bank), size=min(config.max_items, len(bank)), replace=False)
    lengths = {min(length, len(form)) for length in (fixed_length, compare_at, len(form))}
    fixed = _fixed_form(bank, config, form, sorted(lengths), abilities, rng)

    def adaptive_after(length: int) -> list[float]:
        return [path[min(length, len(path)) - 1].ability for path in paths]

    fixed_full = Accuracy.of(fixed[len(form)], abilities)
    match = next(
        (
            length
            for length in range(1, config.max_items + 1)
            if Accuracy.of(adaptive_after(length), abilities).rmse <= fixed_full.rmse
        ),
        None,
    )
    return SimulationReport(
        students=students,
        bank_size=len(bank),
        config=config,
        adaptive=Accuracy.of(final, abilities),
        mean_items=mean_items,
        fixed_length=fixed_length,
        fixed=Accuracy.of(fixed[min(fixed_length, len(form))], abilities),
        compare_at=compare_at,
        adaptive_at=Accuracy.of(adaptive_after(compare_at), abilities),
        fixed_at=Accuracy.of(fixed[min(compare_at, len(form))], abilities),
        fixed_full=fixed_full,
        items_to_match_fixed_full=match,
        exposure_max=float(exposure.max()),
        never_used=float(np.mean(exposure == 0)),
        step_ms=step_ms,
    )


def _stop_length(path: Sequence[Estimate], config: AdaptiveConfig) -> int:
    for length, estimate in enumerate(path, start=1):
        if length >= config.min_items and estimate.standard_error <= config.target_standard_error:
            return length
    return len(path)


def _fixed_form(
    bank: Bank,
    config: AdaptiveConfig,
    form: np.ndarray,
    lengths: Sequence[int],
    abilities: np.ndarray,
    rng: np.random.Generator,
) -> dict[int, list[float]]:
    """Every student answers the whole form; their estimates after its first `lengths`."""
    by_length: dict[int, list[float]] = {length: [] for length in lengths}
    for ability in abilities:
        truth = bank.probability_correct(float(ability))
        responses = [
            Response(bank.items[position].id, bool(rng.random() < truth[position]))
            for position in form
        ]
        for length in by_length:
            estimate = estimate_ability(bank=bank, config=config, responses=responses[:length])
            by_length[length].append(estimate.ability)
    return by_length


def report_markdown(report: SimulationReport) -> str:
    """The report as a bench/RESULTS.md section."""
    c = report.config
    match = report.items_to_match_fixed_full
    return "\n".join(
        [
            f"## adaptive exams (simulation, {c.model})",
            "",
            f"{report.students} simulated students, abilities N(0, 1); a {report.bank_size}-item "
            f"bank; {c.estimator.upper()} with prior N({c.prior_mean:g}, {c.prior_sd:g}²), "
            f"maximum information among the top {c.exposure_top_k} (randomesque); stop at "
            f"SE ≤ {c.target_standard_error:g} after {c.min_items} items, or "
            f"{c.max_items} items. The fixed form is one random draw from the same bank.",
            "",
            "| exam | items | RMSE | bias |",
            "|---|---|---|---|",
            f"| adaptive | {report.mean_items:.1f} (mean) | {report.adaptive.rmse:.3f} | "
            f"{report.adaptive.bias:+.3f} |",
            f"| fixed form, same length | {report.fixed_length} | {report.fixed.rmse:.3f} | "
            f"{report.fixed.bias:+.3f} |",
            f"| adaptive, {report.compare_at} items | {report.compare_at} | "
            f"{report.adaptive_at.rmse:.3f} | {report.adaptive_at.bias:+.3f} |",
            f"| fixed form, {report.compare_at} items | {report.compare_at} | "
            f"{report.fixed_at.rmse:.3f} | {report.fixed_at.bias:+.3f} |",
            f"| fixed form, {c.max_items} items | {c.max_items} | "
            f"{report.fixed_full.rmse:.3f} | {report.fixed_full.bias:+.3f} |",
            "",
            "Adaptive reaches the "
            f"{c.max_items}-item fixed form's RMSE after "
            + (f"{match} items." if match is not None else f"more than {c.max_items} items.")
            + f" Item exposure: at most {report.exposure_max:.0%} of students saw any one item; "
            f"{report.never_used:.0%} of the bank was never served. One step (estimate and "
            f"selection over the bank) took {report.step_ms:.2f} ms on average.",
            "",
        ]
    )
