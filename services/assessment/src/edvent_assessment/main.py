"""The assessment service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_assessment.api.routes import routers
from edvent_assessment.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "assessment"
API_PREFIXES = ("/api/v1/exams", "/api/v1/attempts")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        description="Exams, questions, attempts and analytics.",
    )
