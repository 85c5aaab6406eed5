"""Simulated students taking an adaptive exam through the engine's own functions, against
fixed forms of the same bank: how precise each is, for how many items.

The fair baseline is a *designed* fixed form: the items with the most Fisher information
averaged over the ability distribution N(0, 1), from the same item parameters the
adaptive exam uses (what a test designer with a calibrated bank would build). A random
draw from the bank is reported beside it only to show what design alone buys.

Each simulated student has a known ability and answers item i correctly with the model's
probability at that ability. No I/O; `bench/adaptive.py` and the service's CLI print its
report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from edvent_assessment.domain.adaptive import (
    QUADRATURE_POINTS,
    AdaptiveConfig,
    Bank,
    Estimate,
    IrtModel,
    Item,
    Response,
    next_step,
    selection_rng,
)


@dataclass(frozen=True)
class Accuracy:
    """How far the estimates fall from the true abilities (logits)."""

    rmse: float
    bias: float

    rmse_middle: float  # students with |ability| <= EXTREME
    rmse_extreme: float  # students with |ability| > EXTREME, where adaptivity should pay

    @classmethod
    def of(cls, estimates: ArrayLike, truth: ArrayLike) -> Accuracy:
        truth_ = np.asarray(truth)
        errors = np.asarray(estimates) - truth_
        extreme = np.abs(truth_) > EXTREME

        def rmse(selected: np.ndarray) -> float:
            return float(np.sqrt(np.mean(selected**2))) if selected.size else float("nan")

        return cls(
            rmse=rmse(errors),
            bias=float(np.mean(errors)),
            rmse_middle=rmse(errors[~extreme]),
            rmse_extreme=rmse(errors[extreme]),
        )


# The ability band where a form built for the middle of N(0, 1) has the least information.
EXTREME = 1.5


@dataclass(frozen=True)
class SimulationReport:
    students: int
    bank_size: int
    config: AdaptiveConfig
    adaptive: Accuracy  # with the config's stop rules
    mean_items: float
    fixed_length: int  # the adaptive mean, rounded: the fixed forms of the same length
    fixed: Accuracy  # the designed form
    random: Accuracy  # a random form, for reference
    compare_at: int
    adaptive_at: Accuracy  # all three after exactly `compare_at` items
    fixed_at: Accuracy
    random_at: Accuracy
    fixed_full: Accuracy  # the designed form of max_items items
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

    length = min(config.max_items, len(bank))
    form = designed_form(bank, length=length)
    drawn = rng.choice(len(bank), size=length, replace=False)
    fixed = _fixed_form(bank, config, form, abilities, rng)
    random = _fixed_form(bank, config, drawn, abilities, rng)

    def adaptive_after(length: int) -> list[float]:
        return [path[min(length, len(path)) - 1].ability for path in paths]

    def fixed_after(estimates: np.ndarray, length: int) -> Accuracy:
        return Accuracy.of(estimates[:, min(length, len(form)) - 1], abilities)

    fixed_full = fixed_after(fixed, len(form))
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
        fixed=fixed_after(fixed, fixed_length),
        random=fixed_after(random, fixed_length),
        compare_at=compare_at,
        adaptive_at=Accuracy.of(adaptive_after(compare_at), abilities),
        fixed_at=fixed_after(fixed, compare_at),
        random_at=fixed_after(random, compare_at),
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


def designed_form(bank: Bank, *, length: int) -> np.ndarray:
    """The `length` items with the most Fisher information averaged over N(0, 1), most
    informative first (so every prefix is the designed form of its own length)."""
    nodes, weights = _normal_quadrature(0.0, 1.0)
    expected = sum(
        weight * bank.information(float(node)) for node, weight in zip(nodes, weights, strict=True)
    )
    order = np.lexsort((np.arange(len(bank)), -np.asarray(expected)))
    return order[:length]


def _normal_quadrature(mean: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for N(mean, sd²), the grid the engine's EAP uses."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_POINTS)
    return mean + sd * nodes, weights / weights.sum()


def prefix_estimates(
    bank: Bank, config: AdaptiveConfig, form: np.ndarray, answers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """EAP ability and standard error after each prefix of `form` answered as `answers`
    (booleans, one per item): the engine's estimate (same prior, same quadrature) for
    every length at once, which estimate_ability would take one call per length for."""
    nodes, weights = _normal_quadrature(config.prior_mean, config.prior_sd)
    a = bank.discrimination[form][:, None]
    b = bank.difficulty[form][:, None]
    logit = a * (nodes[None, :] - b)
    # log P(correct) = -log(1 + e^-z), log P(wrong) = -log(1 + e^z), stable at any z.
    loglik = np.cumsum(
        -np.where(answers[:, None], np.logaddexp(0.0, -logit), np.logaddexp(0.0, logit)), axis=0
    )
    loglik -= loglik.max(axis=1, keepdims=True)
    posterior = np.exp(loglik) * weights[None, :]
    posterior /= posterior.sum(axis=1, keepdims=True)
    mean = posterior @ nodes
    variance = posterior @ nodes**2 - mean**2
    return mean, np.sqrt(np.maximum(variance, 0.0))


def _fixed_form(
    bank: Bank,
    config: AdaptiveConfig,
    form: np.ndarray,
    abilities: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Every student answers the whole form; row s: their estimates after each length."""
    rows = []
    for ability in abilities:
        truth = bank.probability_correct(float(ability))[form]
        answers = rng.random(len(form)) < truth
        rows.append(prefix_estimates(bank, config, form, answers)[0])
    return np.array(rows)


@dataclass(frozen=True)
class PrecisionRow:
    """Students of one true ability: the items each exam needed to reach the target SE."""

    ability: float
    adaptive_items: float  # mean over the students who reached it
    adaptive_reached: float  # their share
    fixed_items: float
    fixed_reached: float


def items_to_precision(
    *,
    items: Sequence[Item],
    config: AdaptiveConfig,
    abilities: Sequence[float],
    per_ability: int,
    target: float,
    max_items: int,
    seed: int,
) -> list[PrecisionRow]:
    """For students at each of `abilities`: how many items the adaptive exam (stopping at
    SE ≤ `target`, at most `max_items`) and the designed fixed form (read until its EAP
    SE first reaches `target`) need."""
    bank = Bank(items, model=config.model)
    max_items = min(max_items, len(bank))
    settings = config.model_copy(
        update={"target_standard_error": target, "max_items": max_items, "min_items": 1}
    )
    form = designed_form(bank, length=max_items)
    rng = np.random.default_rng(seed)
    rows = []
    for ability in abilities:
        truth = bank.probability_correct(float(ability))
        adaptive: list[int | None] = []
        fixed: list[int | None] = []
        for student in range(per_ability):
            responses: list[Response] = []
            while True:
                step = next_step(
                    bank=bank, config=settings, responses=responses,
                    rng=selection_rng(seed=f"{seed}-{ability}-{student}", position=len(responses)),
                )  # fmt: skip
                if step.next_item is None:
                    break
                position = bank.index[step.next_item.id]
                responses.append(Response(step.next_item.id, bool(rng.random() < truth[position])))
            reached = step.estimate.standard_error <= target
            adaptive.append(len(responses) if reached else None)
            answers = rng.random(len(form)) < truth[form]
            _, errors = prefix_estimates(bank, settings, form, answers)
            hit = np.flatnonzero(errors <= target)
            fixed.append(int(hit[0]) + 1 if hit.size else None)
        rows.append(
            PrecisionRow(
                ability=float(ability),
                adaptive_items=_mean_reached(adaptive),
                adaptive_reached=_share_reached(adaptive),
                fixed_items=_mean_reached(fixed),
                fixed_reached=_share_reached(fixed),
            )
        )
    return rows


def _mean_reached(lengths: Sequence[int | None]) -> float:
    reached = [length for length in lengths if length is not None]
    return float(np.mean(reached)) if reached else float("nan")


def _share_reached(lengths: Sequence[int | None]) -> float:
    return sum(length is not None for length in lengths) / len(lengths)


def precision_markdown(
    rows: Sequence[PrecisionRow], *, model: str, target: float, max_items: int, per_ability: int
) -> str:
    def cell(items: float, reached: float) -> str:
        if reached == 0:
            return f"not within {max_items}"
        return f"{items:.1f}" + ("" if reached == 1 else f" ({reached:.0%} reached it)")

    return "\n".join(
        [
            f"Items to reach SE ≤ {target:g} ({model}; {per_ability} students at each true "
            f"ability; at most {max_items} items; the designed form read item by item):",
            "",
            "| true ability | adaptive | designed fixed form |",
            "|---|---|---|",
            *(
                f"| {row.ability:+.1f} | {cell(row.adaptive_items, row.adaptive_reached)} | "
                f"{cell(row.fixed_items, row.fixed_reached)} |"
                for row in rows
            ),
            "",
        ]
    )


def report_markdown(report: SimulationReport) -> str:
    """The report as a bench/RESULTS.md section."""
    c = report.config
    match = report.items_to_match_fixed_full

    def row(exam: str, items: str, accuracy: Accuracy) -> str:
        return (
            f"| {exam} | {items} | {accuracy.rmse:.3f} | {accuracy.rmse_middle:.3f} | "
            f"{accuracy.rmse_extreme:.3f} | {accuracy.bias:+.3f} |"
        )

    return "\n".join(
        [
            f"## adaptive exams (simulation, {c.model})",
            "",
            f"{report.students} simulated students, abilities N(0, 1); a {report.bank_size}-item "
            f"bank; {c.estimator.upper()} with prior N({c.prior_mean:g}, {c.prior_sd:g}²), "
            f"maximum information among the top {c.exposure_top_k} (randomesque); stop at "
            f"SE ≤ {c.target_standard_error:g} after {c.min_items} items, or "
            f"{c.max_items} items. The baseline is a designed fixed form: the bank's items "
            "with the most information averaged over N(0, 1), from the same parameters. A "
            "random form is shown only for what design alone buys.",
            "",
            f"| exam | items | RMSE | RMSE, abs(θ) ≤ {EXTREME:g} | RMSE, abs(θ) > {EXTREME:g} "
            "| bias |",
            "|---|---|---|---|---|---|",
            row("adaptive", f"{report.mean_items:.1f} (mean)", report.adaptive),
            row("**designed fixed form**, same length", str(report.fixed_length), report.fixed),
            row("random fixed form, same length", str(report.fixed_length), report.random),
            row(f"adaptive, {report.compare_at} items", str(report.compare_at), report.adaptive_at),
            row(
                f"**designed fixed form**, {report.compare_at} items",
                str(report.compare_at),
                report.fixed_at,
            ),
            row(
                f"random fixed form, {report.compare_at} items",
                str(report.compare_at),
                report.random_at,
            ),
            row(f"designed fixed form, {c.max_items} items", str(c.max_items), report.fixed_full),
            "",
            f"Adaptive reaches the {c.max_items}-item designed form's RMSE after "
            + (f"{match} items." if match is not None else f"more than {c.max_items} items.")
            + f" Item exposure: at most {report.exposure_max:.0%} of students saw any one item; "
            f"{report.never_used:.0%} of the bank was never served. One step (estimate and "
            f"selection over the bank) took {report.step_ms:.2f} ms on average.",
            "",
        ]
    )
