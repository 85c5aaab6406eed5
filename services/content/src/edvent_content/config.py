"""The content service's settings: environment variables prefixed CONTENT_."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from edvent_platform.auth import AuthSettings
from edvent_platform.settings import ServiceSettings

MIB = 1024 * 1024


class Settings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="CONTENT_")

    database_url: str = "postgresql+psycopg://content:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "content"
    # A lesson body may be 5 MiB; as JSON (POST .../lessons) it is escaped and a little
    # larger, and the body-size guard must not cut it off before the 5 MiB rule answers.
    max_request_body_bytes: int = Field(default=6 * MIB, ge=1024)

    # Lesson bodies: S3 (or anything speaking its API). No endpoint means AWS itself.
    s3_endpoint_url: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "edvent-lessons"
    s3_connect_timeout_seconds: float = Field(default=2, gt=0)
    s3_read_timeout_seconds: float = Field(default=10, gt=0)
    # Tries per S3 call (botocore's standard retry mode), so an outage answers fast.
    s3_max_attempts: int = Field(default=2, ge=1)
    # boto3 is blocking: its calls run on this many threads, off the event loop.
    s3_threads: int = Field(default=8, ge=1)
    # What a 503 tells clients to wait when S3 is unreachable.
    s3_retry_after_seconds: int = Field(default=5, ge=1)

    max_lesson_bytes: int = Field(default=5 * MIB, ge=1)

    def secret_fields(self) -> tuple[str, ...]:
        # The S3 access key is no secret by itself, but its `changethis` default is.
        return (*super().secret_fields(), "s3_access_key")
