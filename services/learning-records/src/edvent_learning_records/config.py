"""learning-records' settings: environment variables prefixed LEARNING_RECORDS_."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNING_RECORDS_")

    database_url: str = "postgresql+psycopg://learning_records:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "learning_records"

    # The Learning Record Store: any conformant xAPI 1.0.3 LRS (Ralph in `make dev`;
    # Learning Locker, Yet Analytics SQL LRS, Veracity alike). The base URL is the one
    # its `/xAPI/statements` hangs under, e.g. http://127.0.0.1:8100 for Ralph.
    lrs_url: str = "http://127.0.0.1:8100"
    lrs_username: str = "edvent"
    lrs_password: SecretStr = SecretStr("dev-password")
    lrs_timeout_seconds: float = Field(default=10, gt=0)
    # The statements' `account.homePage`: the platform's public base URL (the gateway).
    # Activity ids hang under it too, so keep it stable.
    platform_base_url: str = "http://127.0.0.1:8080"

    # The sender: every `send_interval_seconds`, up to `batch_size` waiting statements go
    # in one POST. A failed POST is tried again after a doubling pause, at most the max.
    send_interval_seconds: float = Field(default=0.5, gt=0)
    batch_size: int = Field(default=200, ge=1, le=1000)
    retry_base_seconds: float = Field(default=1, gt=0)
    retry_max_seconds: float = Field(default=300, gt=0)
