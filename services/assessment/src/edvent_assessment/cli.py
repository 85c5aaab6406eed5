"""`edvent-assessment`: run migrations, serve the API."""

from __future__ import annotations

from pathlib import Path

from edvent_platform.cli import service_main

SERVICE_DIR = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> None:
    service_main(
        prog="edvent-assessment",
        env_prefix="ASSESSMENT_",
        service_dir=SERVICE_DIR,
        app_factory="edvent_assessment.main:create_app",
        default_port=8003,
        argv=argv,
    )
