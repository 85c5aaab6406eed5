"""The settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that are fine on a laptop and dangerous anywhere else.
DEVELOPMENT_SECRETS = frozenset({"changethis", "postgres", "dev-password"})


class ServiceSettings(BaseSettings):
    """Configuration comes only from the environment (prefix set by each service)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    # postgresql+psycopg://role:password@host:port/edvent, connecting as the service's own
    # role (an older postgresql+asyncpg:// URL is read as psycopg too)
    database_url: str = "postgresql+psycopg://localhost:5432/edvent"
    database_pool_size: int = 10
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Larger bodies get 413 before they are read (the gateway has its own limit too).
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Events (libs/events): how long sent outbox rows, handled-event ids and records of
    # dead-lettered messages are kept, and how often a failing handler is tried before
    # its message is dead-lettered.
    outbox_retention_hours: float = 168.0
    inbox_retention_hours: float = 720.0
    dead_letter_retention_hours: float = 720.0
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_handler_timeout_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.environment != "production":
            return self
        for name in self.secret_fields():
            if str(getattr(self, name)) in DEVELOPMENT_SECRETS:
                raise ValueError(f"{name} still has a development value; set a real secret")
        if any(f":{secret}@" in self.database_url for secret in DEVELOPMENT_SECRETS):
            raise ValueError("database_url still has a development password")
        return self

    def secret_fields(self) -> tuple[str, ...]:
        return ()
