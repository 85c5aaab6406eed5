"""The learning-records service's app factory.

No public HTTP API: it serves only the platform's operational routes (/healthz,
/readyz, /metrics) on its own port, so the gateway does not route to it. Data teams
read the statements from the LRS.
"""

from __future__ import annotations

from fastapi import FastAPI

from edvent_learning_records.bootstrap import LearningRecords
from edvent_learning_records.config import Settings
from edvent_learning_records.consumers import handlers_for
from edvent_platform.app import build_runtime, create_service_app

SERVICE = "learning-records"
# Its OpenAPI document (operational routes only) is served here on its own port.
API_PREFIXES = ("/api/v1/learning-records",)


async def _stop(app: FastAPI) -> None:
    records: LearningRecords = app.state.learning_records
    await records.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = build_runtime(service=SERVICE, schema=settings.db_schema, settings=settings)
    records = LearningRecords.build(settings, runtime.sessions)
    records.register_jobs(runtime.jobs)
    app = create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=[],
        handlers=handlers_for(records.mapper, queued=records.statements_queued),
        runtime=runtime,
        on_shutdown=[_stop],
        description="Domain events as xAPI statements in a Learning Record Store.",
    )
    app.state.learning_records = records
    return app
