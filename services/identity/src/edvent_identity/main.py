"""The identity service's app factory."""

from __future__ import annotations

from fastapi import FastAPI

from edvent_identity.api.routes import routers
from edvent_identity.config import Settings
from edvent_platform.app import create_service_app

SERVICE = "identity"
API_PREFIXES = ("/api/v1/auth", "/api/v1/users")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        service=SERVICE,
        schema=settings.db_schema,
        settings=settings,
        api_prefixes=API_PREFIXES,
        routers=routers,
        description="Accounts, passwords, access and refresh tokens, roles.",
    )
