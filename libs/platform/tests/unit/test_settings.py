"""Settings come from the environment and refuse development secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from edvent_platform.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    signing_secret: str = "changethis"

    def secret_fields(self) -> tuple[str, ...]:
        return ("signing_secret",)


def test_values_come_from_prefixed_environment_variables(monkeypatch):
    monkeypatch.setenv("EXAMPLE_KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "not-mine:1")
    assert ExampleSettings().kafka_bootstrap_servers == "broker:9092"


def test_development_secrets_are_fine_in_development():
    assert ExampleSettings(environment="development").signing_secret == "changethis"


def test_development_secrets_are_refused_in_production():
    with pytest.raises(ValidationError, match="signing_secret"):
        ExampleSettings(environment="production")
    with pytest.raises(ValidationError, match="database_url"):
        ExampleSettings(
            environment="production",
            signing_secret="s3cr3t-value",
            database_url="postgresql+asyncpg://x:dev-password@db/edvent",
        )
    assert ExampleSettings(
        environment="production",
        signing_secret="s3cr3t-value",
        database_url="postgresql+asyncpg://x:real@db/edvent",
    ).environment


def test_the_kafka_connection_carries_the_services_credentials(monkeypatch):
    monkeypatch.setenv("EXAMPLE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("EXAMPLE_KAFKA_USERNAME", "example")
    monkeypatch.setenv("EXAMPLE_KAFKA_PASSWORD", "s3cr3t-kafka")
    kafka = ExampleSettings().kafka
    assert kafka.principal == "User:example"
    kwargs = kafka.client_kwargs()
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_password"] == "s3cr3t-kafka"
    assert "ssl_context" in kwargs
    assert "s3cr3t" not in repr(kafka)


def test_sasl_without_a_password_is_refused_at_start():
    with pytest.raises(ValidationError, match="username and a password"):
        ExampleSettings(kafka_security_protocol="SASL_PLAINTEXT", kafka_username="example")


def test_a_development_kafka_password_is_refused_in_production():
    with pytest.raises(ValidationError, match="kafka_password"):
        ExampleSettings(
            environment="production",
            signing_secret="s3cr3t-value",
            kafka_security_protocol="SASL_SSL",
            kafka_username="example",
            kafka_password="changethis",
        )
