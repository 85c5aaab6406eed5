"""The ai-notes service's settings: environment variables prefixed AI_NOTES_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AI_NOTES_")

    database_url: str = "postgresql+psycopg://ai_notes:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "ai_notes"
