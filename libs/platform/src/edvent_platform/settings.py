"""The settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

import types
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from edvent_events.connection import KafkaConnection, SaslMechanism, SecurityProtocol

# Values that are fine on a laptop and dangerous anywhere else.
DEVELOPMENT_SECRETS = frozenset(
    # The charts' placeholders, the local stack's and docker-compose's defaults.
    {"changethis", "postgres", "dev-password", "edvent-secret-key", "data-team-password"}
)


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
    # The service's own Kafka principal (named after it): SASL_PLAINTEXT in `make dev`,
    # SASL_SSL on a cluster (with the CA of the brokers' certificates); PLAINTEXT only
    # reaches a broker without authentication.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: str | None = None
    kafka_ssl_cafile: str | None = None
    # Larger bodies get 413 before they are read (the gateway has its own limit too).
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Events (libs/events): how long sent outbox rows, handled-event ids and records of
    # dead-lettered messages are kept, and how often a failing handler is tried before
    # its message is dead-lettered.
    outbox_retention_hours: float = 168.0
    inbox_retention_hours: float = 720.0
    dead_letter_retention_hours: float = 720.0
    # Log each run of a single-runner job with its start and end (the replicas drill).
    log_job_runs: bool = False
    # How often one replica deletes what is past those retentions (the job "outbox-prune").
    outbox_prune_interval_seconds: float = Field(default=300.0, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_handler_timeout_seconds: float = Field(default=60.0, gt=0)
    # Peers whose X-Forwarded-For names the client (the gateway), comma-separated CIDR
    # ranges; none by default: then the TCP peer is the client (`client_address`).
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_ranges(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        self.kafka  # noqa: B018 - SASL without a username or password fails here, at start
        if self.environment != "production":
            return self
        for name in self.secret_fields():
            value = getattr(self, name)
            # The real value: str() of a SecretStr is always "**********".
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value in DEVELOPMENT_SECRETS:
                raise ValueError(f"{name} still has a development value; set a real secret")
        if any(f":{secret}@" in self.database_url for secret in DEVELOPMENT_SECRETS):
            raise ValueError("database_url still has a development password")
        if self.kafka_password in DEVELOPMENT_SECRETS:
            raise ValueError("kafka_password still has a development value; set a real secret")
        return self

    def secret_fields(self) -> tuple[str, ...]:
        """The fields production refuses development values in: every `SecretStr`
        field (found from the annotations, so a new one is never forgotten), plus what
        a service adds by overriding this (an S3 access key is a plain `str`)."""
        return tuple(
            name
            for name, field in type(self).model_fields.items()
            if _holds_secret(field.annotation)
        )

    @property
    def kafka(self) -> KafkaConnection:
        """How this service's relay, consumers and readiness probe reach the broker."""
        return KafkaConnection(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_username,
            password=self.kafka_password,
            ssl_cafile=self.kafka_ssl_cafile,
        )


def _holds_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_holds_secret(arg) for arg in get_args(annotation))
    return False
