"""The content service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_content.api.errors import install_error_mapping
from edvent_content.api.routes import routers
from edvent_content.bootstrap import Content
from edvent_content.config import Settings
from edvent_content.consumers import handlers
from edvent_platform.app import create_service_app
from edvent_platform.auth import install_token_verifier
from edvent_platform.view_cache import ID, CachedView

SERVICE = "content"
API_PREFIXES = ("/api/v1/courses", "/api/v1/lessons")
# A student's view of these is the anonymous one (no drafts, not even their own).
CACHED_VIEWS = (
    CachedView("/api/v1/courses", anonymous=True, own={"owner": "me"}),
    CachedView(f"/api/v1/lessons/{ID}", anonymous=True),
)


async def _start(app: FastAPI) -> None:
    content: Content = app.state.content
    await content.start()


async def _stop(app: FastAPI) -> None:
    content: Content = app.state.content
    await content.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    content = Content.build(settings)
    app = create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        handlers=handlers,
        # Lesson bodies are useless without the object store.
        readiness={"s3": content.store.check},
        on_startup=[_start],
        on_shutdown=[_stop],
        cached_views=CACHED_VIEWS,
        description="Courses and lessons; lesson bodies in S3.",
    )
    app.state.content = content
    install_token_verifier(app, content.verifier)
    install_error_mapping(app, retry_after=settings.s3_retry_after_seconds)
    return app
