"""The ai-notes service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.api.errors import install_error_mapping
from edvent_ai_notes.api.routes import routers
from edvent_ai_notes.bootstrap import AiNotes
from edvent_ai_notes.config import Settings
from edvent_ai_notes.consumers import handlers_for
from edvent_ai_notes.db.vectors import register_vectors
from edvent_platform.app import build_runtime, create_service_app
from edvent_platform.auth import install_token_verifier
from edvent_platform.view_cache import ID, CachedView

SERVICE = "ai-notes"
API_PREFIXES = ("/api/v1/notes",)
# Every student's view of a lesson's notes, and of the notes naming a concept, is the
# same (no failure details); answered from memory while no course, lesson or note
# changes. Not search: its answers are per question, and each costs the caller's budget.
CACHED_VIEWS = (CachedView("/api/v1/notes"), CachedView(f"/api/v1/notes/{ID}"))


async def _start(app: FastAPI) -> None:
    ai_notes: AiNotes = app.state.ai_notes
    await ai_notes.start()


async def _stop(app: FastAPI) -> None:
    ai_notes: AiNotes = app.state.ai_notes
    await ai_notes.stop()


def create_app(
    settings: Settings | None = None, *, provider: NotesProvider | None = None
) -> FastAPI:
    """`provider`, when given, replaces the configured one (tests and benchmarks)."""
    settings = settings or Settings()
    # The runtime first: the service's parts need its sessions, and the event handlers
    # need the parts.
    runtime = build_runtime(service=SERVICE, schema=settings.db_schema, settings=settings)
    register_vectors(runtime.engine)
    register_vectors(runtime.read_engine)
    ai_notes = AiNotes.build(settings, runtime.sessions, provider=provider)
    ai_notes.register_jobs(runtime.jobs)
    app = create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        handlers=handlers_for(ai_notes.pipeline),
        runtime=runtime,
        on_startup=[_start],
        on_shutdown=[_stop],
        cached_views=CACHED_VIEWS,
        description="AI summaries and key concepts for lessons; semantic search.",
    )
    app.state.ai_notes = ai_notes
    install_token_verifier(app, ai_notes.verifier)
    install_error_mapping(app)
    return app
