"""`edvent-assessment`: run migrations, serve the API, calibrate questions, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from uuid import UUID

from edvent_assessment.config import Settings
from edvent_assessment.domain.errors import ExamNotFound
from edvent_platform.cli import service_main
from edvent_platform.db import create_engine, session_factory, transaction

SERVICE_DIR = Path(__file__).resolve().parents[2]


async def _calibrate(settings: Settings, exam_id: UUID) -> str:
    # Imported here: the IRT stack (mirt, scipy) takes seconds to load, which `migrate`
    # and `serve`'s parent process should not pay.
    from edvent_assessment.usecases import calibration as calibration_usecase

    engine = create_engine(
        settings.database_url, schema=settings.db_schema, app_name="assessment-cli"
    )
    try:
        async with transaction(session_factory(engine)) as session:
            result = await calibration_usecase.calibrate_exam(
                session=session, exam_id=exam_id, min_responses=settings.calibration_min_responses
            )
    finally:
        await engine.dispose()
    lines = ["question\tauthor_b\tcalibrated_b\tauthor_a\tcalibrated_a\tn\tcalibrated"]
    for item in result.items:
        lines.append(
            f"{item.item_id}\t{item.author_difficulty:.3f}\t{item.difficulty:.3f}\t"
            f"{item.author_discrimination:.3f}\t{item.discrimination:.3f}\t"
            f"{item.sample_size}\t{'yes' if item.calibrated else 'no'}"
        )
    if result.ability_sd is not None:
        lines.append(f"students' ability sd on this scale: {result.ability_sd:.3f}")
    return "\n".join(lines)


def calibrate(args: argparse.Namespace) -> None:
    try:
        print(asyncio.run(_calibrate(Settings(), args.exam)))
    except ExamNotFound:
        sys.exit(f"calibrate: there is no exam {args.exam}")


def simulate(args: argparse.Namespace) -> None:
    from edvent_assessment.domain.adaptive import AdaptiveConfig
    from edvent_assessment.domain.simulation import make_bank, report_markdown
    from edvent_assessment.domain.simulation import simulate as run

    config = AdaptiveConfig(mode="adaptive", model=args.model)
    report = run(
        items=make_bank(size=args.bank, model=args.model, seed=args.seed),
        config=config,
        students=args.students,
        seed=args.seed,
    )
    print(report_markdown(report))


def _commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calibrate_cmd = sub.add_parser(
        "calibrate", help="estimate an exam's question difficulties from its completed attempts"
    )
    calibrate_cmd.add_argument("--exam", type=UUID, required=True, help="the exam's id")
    calibrate_cmd.set_defaults(func=calibrate)
    simulate_cmd = sub.add_parser(
        "simulate", help="simulated students through an adaptive exam versus a fixed form"
    )
    simulate_cmd.add_argument("--students", type=int, default=1000)
    simulate_cmd.add_argument("--bank", type=int, default=200, help="items in the bank")
    simulate_cmd.add_argument("--model", choices=("rasch", "2pl"), default="rasch")
    simulate_cmd.add_argument("--seed", type=int, default=2026)
    simulate_cmd.set_defaults(func=simulate)


def main(argv: list[str] | None = None) -> None:
    service_main(
        prog="edvent-assessment",
        env_prefix="ASSESSMENT_",
        service_dir=SERVICE_DIR,
        app_factory="edvent_assessment.main:create_app",
        default_port=8003,
        extra=_commands,
        argv=argv,
    )
