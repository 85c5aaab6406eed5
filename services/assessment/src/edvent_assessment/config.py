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

    # Adaptive exams: a question's calibrated difficulty (and discrimination) replace the
    # author's once they were estimated from at least this many answers.
    calibration_min_responses: int = Field(default=100, ge=1)
    # How often every published adaptive exam is recalibrated in the background; 0: never
    # (run `edvent-assessment calibrate --exam ID` instead).
    calibration_interval_seconds: float = Field(default=0, ge=0)
    # Item banks kept in memory (one per published adaptive exam and calibration).
    bank_cache_size: int = Field(default=256, ge=1)
