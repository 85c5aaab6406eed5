"""The assessment service's settings: environment variables prefixed ASSESSMENT_."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from edvent_platform.auth import AuthSettings
from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="ASSESSMENT_")

    database_url: str = "postgresql+psycopg://assessment:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "assessment"

    # A submission may arrive this long after the deadline and still count (network,
    # a click at the last second); later it is refused and the attempt closed as expired.
    submit_grace_seconds: float = Field(default=30, ge=0)
    # The sweeper closes attempts past deadline + grace that nobody submitted.
    sweep_interval_seconds: float = Field(default=5, gt=0)
    sweep_batch_size: int = Field(default=100, ge=1)
    # What a 409 for an exam of a course not heard of yet tells clients to wait.
    unknown_course_retry_after_seconds: int = Field(default=2, ge=1)
