"""The assessment service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_assessment.api.errors import install_error_mapping
from edvent_assessment.api.routes import routers
from edvent_assessment.bootstrap import Assessment
from edvent_assessment.config import Settings
from edvent_assessment.consumers import handlers
from edvent_platform.app import create_service_app
from edvent_platform.auth import install_token_verifier
from edvent_platform.view_cache import CachedView

SERVICE = "assessment"
API_PREFIXES = ("/api/v1/exams", "/api/v1/attempts")
# Every student's exam list is the same (published exams of published, unarchived
# courses); answered from memory while no course, exam or question changes.
CACHED_VIEWS = (CachedView("/api/v1/exams"),)

DESCRIPTION = """Exams, questions, timed attempts and analytics.

- Exams belong to a course the service knows from content's events; an exam for a
  course not heard of yet is 409 with `Retry-After`. The course's owner and ADMINs
  manage its exams; signed-in users see published exams, never correct answers.
- An attempt snapshots the questions when it starts; it closes once, `completed` by
  a submission before `deadline` + 30 s grace, or `expired` (a late submission answers
  409, and the sweeper closes attempts nobody submitted). Closed attempts never change.
- `score` is the integer percent of points earned, rounded down.
- Adaptive exams (`config.mode` `adaptive`) serve one question at a time: answers go to
  `POST /api/v1/attempts/{id}/answers`, which returns the next question or completes the
  attempt (score: the expected percent correct over the whole bank at the final
  ability; `ability` and `standard_error` set). Such attempts cannot be submitted.
- Analytics count submitted (`completed`) attempts only; expired ones are reported as
  `attempts_expired` and count in neither the average, the pass rate nor the rates.
"""


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
        handlers=handlers,
        on_startup=[_start],
        on_shutdown=[_stop],
        cached_views=CACHED_VIEWS,
        description=DESCRIPTION,
    )
    assessment = Assessment.build(settings, app.state.runtime.sessions)
    assessment.register_jobs(app.state.runtime.jobs)
    app.state.assessment = assessment
    install_token_verifier(app, assessment.verifier)
    install_error_mapping(app, retry_after=settings.unknown_course_retry_after_seconds)
    return app
