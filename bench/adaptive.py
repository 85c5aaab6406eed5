"""Simulation of adaptive exams: `uv run python -m bench.adaptive`.

1,000 simulated students (BENCH_STUDENTS) with abilities from N(0, 1) take an adaptive
exam over a 200-item bank through the assessment service's engine
(`edvent_assessment.domain.simulation`), once with the default settings (Rasch) and once
as 2PL; each is compared with a fixed random form from the same bank. No database: the
engine is pure, and the service's storage is not what is measured here.

`make bench` runs it after the other benchmarks and writes its section into
bench/RESULTS.md; alone, it prints the section.
"""

from __future__ import annotations

import os

from edvent_assessment.domain.adaptive import AdaptiveConfig
from edvent_assessment.domain.simulation import make_bank, report_markdown, simulate

BANK_SIZE = 200
SEED = 2026


def run() -> str:
    students = int(os.environ.get("BENCH_STUDENTS", "1000"))
    sections = []
    for model in ("rasch", "2pl"):
        config = AdaptiveConfig(mode="adaptive", model=model)
        report = simulate(
            items=make_bank(size=BANK_SIZE, model=model, seed=SEED),
            config=config,
            students=students,
            seed=SEED,
        )
        sections.append(report_markdown(report))
    return "\n".join(sections)


def main() -> None:
    print(run())


if __name__ == "__main__":
    main()
