"""Identity's settings: environment variables prefixed IDENTITY_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_")

    database_url: str = "postgresql+asyncpg://identity:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "identity"
