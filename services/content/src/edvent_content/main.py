"""The content service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_content.api.routes import routers
from edvent_content.bootstrap import Content
from edvent_content.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "content"
API_PREFIXES = ("/api/v1/courses", "/api/v1/lessons")


async def _start(app: FastAPI) -> None:
    content: Content = app.state.content
    await content.start()


async def _stop(app: FastAPI) -> None:
    content: Content = app.state.content
    await content.stop()


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
        description="Courses and lessons; lesson bodies in S3.",
    )
    app.state.content = Content.build(settings, app.state.runtime.sessions)
    return app
