"""Simulation of adaptive exams: `uv run python -m bench.adaptive`.

1,000 simulated students (BENCH_SIMULATED_STUDENTS) with abilities from N(0, 1) take an adaptive
exam over a 200-item bank through the assessment service's engine
(`edvent_assessment.domain.simulation`), once with the default settings (Rasch) and once
as 2PL; each is compared with a designed fixed form from the same bank (the items with
the most information over N(0, 1)), RMSE overall and for |θ| > 1.5. Then, for each model,
BENCH_PRECISION_STUDENTS (default 10) students at each true ability from -2.5 to 2.5:
how many items each exam needs to reach SE ≤ 0.3.

Then BENCH_ADAPTIVE_SERVICE_STUDENTS (default 200) of them take the Rasch exam through
the service's real use cases (`start_attempt`, `answer_question`, one transaction each)
against a real PostgreSQL migrated by `edvent-assessment migrate`
(`edvent_assessment.testing`): their RMSE and mean length, which should match
the engine's within sampling error, and the time of one answer with its commit.

`make bench` runs it after the other benchmarks and writes its section into
bench/RESULTS.md; alone, it prints the section.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.stack import infrastructure, migrated_database
from edvent_assessment import testing as simulation_service
from edvent_assessment.domain.adaptive import AdaptiveConfig
from edvent_assessment.domain.simulation import (
    items_to_precision,
    make_bank,
    precision_markdown,
    report_markdown,
    simulate,
)
from edvent_platform.db import create_engine, session_factory

BANK_SIZE = 200
SEED = 2026
PRECISION_TARGET = 0.3
PRECISION_MAX_ITEMS = 100
PRECISION_ABILITIES = [-2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def run() -> str:
    students = int(os.environ.get("BENCH_SIMULATED_STUDENTS", "1000"))
    per_ability = int(os.environ.get("BENCH_PRECISION_STUDENTS", "10"))
    sections = []
    for model in ("rasch", "2pl"):
        config = AdaptiveConfig(mode="adaptive", model=model)
        items = make_bank(size=BANK_SIZE, model=model, seed=SEED)
        report = simulate(items=items, config=config, students=students, seed=SEED)
        rows = items_to_precision(
            items=items, config=config, abilities=PRECISION_ABILITIES, per_ability=per_ability,
            target=PRECISION_TARGET, max_items=PRECISION_MAX_ITEMS, seed=SEED,
        )  # fmt: skip
        sections.append(report_markdown(report))
        sections.append(
            precision_markdown(
                rows,
                model=model,
                target=PRECISION_TARGET,
                max_items=PRECISION_MAX_ITEMS,
                per_ability=per_ability,
            )
        )
    sections.append(asyncio.run(through_the_service()))
    return "\n".join(sections)


async def through_the_service() -> str:
    students = int(os.environ.get("BENCH_ADAPTIVE_SERVICE_STUDENTS", "200"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-adaptive-"))
    with infrastructure(work, kafka=False) as infra:
        url = migrated_database(infra.postgres, "assessment")
        engine = create_engine(url, schema="assessment", app_name="bench-adaptive")
        try:
            sessions = session_factory(engine)
            config = AdaptiveConfig(mode="adaptive", model="rasch")
            items = make_bank(size=BANK_SIZE, model="rasch", seed=SEED)
            exam_id = await simulation_service.create_exam(sessions, items=items, config=config)
            abilities = np.random.default_rng(SEED + 1).normal(0.0, 1.0, students).tolist()
            run = await simulation_service.run_students(
                sessions, exam_id=exam_id, items=items, config=config,
                abilities=abilities, seed=SEED,
            )  # fmt: skip
        finally:
            await engine.dispose()
    return "\n".join(
        [
            "## adaptive exams (through the service, rasch)",
            "",
            f"{students} simulated students took the same Rasch exam through the service's "
            "use cases (start_attempt, answer_question; one transaction each) against "
            f"PostgreSQL: RMSE {run.rmse:.3f} after {run.mean_items:.1f} items on average; "
            f"one answer (estimate, selection, the attempt's row lock, update, commit) took "
            f"{run.answer_ms:.1f} ms on average.",
            "",
        ]
    )


def main() -> None:
    print(run())


if __name__ == "__main__":
    main()
