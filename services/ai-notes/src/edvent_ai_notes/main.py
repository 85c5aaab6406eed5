"""The ai-notes service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.api.routes import routers
from edvent_ai_notes.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "ai-notes"
API_PREFIXES = ("/api/v1/notes",)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        description="AI summaries and key concepts for lessons; semantic search.",
    )
