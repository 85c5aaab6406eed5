"""The assessment service's settings: environment variables prefixed ASSESSMENT_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_")

    database_url: str = "postgresql+psycopg://assessment:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "assessment"
