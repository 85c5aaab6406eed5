"""The ai-notes service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.api.routes import routers
from edvent_ai_notes.bootstrap import AiNotes
from edvent_ai_notes.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "ai-notes"
API_PREFIXES = ("/api/v1/notes",)


async def _start(app: FastAPI) -> None:
    ai_notes: AiNotes = app.state.ai_notes
    await ai_notes.start()


async def _stop(app: FastAPI) -> None:
    ai_notes: AiNotes = app.state.ai_notes
    await ai_notes.stop()


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
        description="AI summaries and key concepts for lessons; semantic search.",
    )
    app.state.ai_notes = AiNotes.build(settings, app.state.runtime.sessions)
    return app
