"""The assessment service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_assessment.api.routes import routers
from edvent_assessment.bootstrap import Assessment
from edvent_assessment.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "assessment"
API_PREFIXES = ("/api/v1/exams", "/api/v1/attempts")


async def _start(app: FastAPI) -> None:
    assessment: Assessment = app.state.assessment
    await assessment.start()


async def _stop(app: FastAPI) -> None:
    assessment: Assessment = app.state.assessment
    await assessment.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        on_startup=[_start],
        on_shutdown=[_stop],
        description="Exams, questions, attempts and analytics.",
    )
    app.state.assessment = Assessment.build(settings, app.state.runtime.sessions)
    return app
