"""The identity service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_identity.api.errors import install_error_mapping
from edvent_identity.api.routes import routers
from edvent_identity.bootstrap import Identity
from edvent_identity.config import Settings
from edvent_identity.consumers import handlers
from edvent_platform.app import create_service_app
from edvent_platform.auth import install_token_verifier

SERVICE = "identity"
API_PREFIXES = ("/api/v1/auth", "/api/v1/users")


async def _start(app: FastAPI) -> None:
    identity: Identity = app.state.identity
    await identity.start()


async def _stop(app: FastAPI) -> None:
    identity: Identity = app.state.identity
    await identity.stop()


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
        description="Accounts, passwords, access and refresh tokens, roles.",
    )
    identity = Identity.build(settings, app.state.runtime.sessions)
    identity.register_jobs(app.state.runtime.jobs)
    app.state.identity = identity
    install_token_verifier(app, identity.verifier)
    install_error_mapping(app)
    return app
