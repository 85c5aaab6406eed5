"""The content service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_content.api.routes import routers
from edvent_content.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "content"
API_PREFIXES = ("/api/v1/courses", "/api/v1/lessons")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        description="Courses and lessons; lesson bodies in S3.",
    )
