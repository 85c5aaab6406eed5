"""Settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edvent_identity.config import Settings


def test_a_key_in_both_pem_and_file_is_refused() -> None:
    with pytest.raises(ValidationError, match="not both"):
        Settings(signing_key_pem="x", signing_key_file="/tmp/key.pem")


def test_empty_environment_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_BOOTSTRAP_ADMIN_EMAIL", "")
    monkeypatch.setenv("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD", "")
    monkeypatch.setenv("IDENTITY_SIGNING_KEY_PEM", "")
    settings = Settings()
    assert settings.bootstrap_admin_email is None
    assert settings.bootstrap_admin_password is None
    assert settings.configured_signing_key_pem() is None


def test_production_refuses_a_development_admin_password() -> None:
    with pytest.raises(ValidationError, match="bootstrap_admin_password"):
        Settings(
            environment="production",
            database_url="postgresql+asyncpg://identity:Xq9-real-secret@db:5432/edvent",
            bootstrap_admin_password="changethis",
            signing_key_passphrase="a real key-encryption secret",
        )


def test_argon2_parameters_below_the_owasp_minimum_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(argon2_memory_kib=4096)
    with pytest.raises(ValidationError):
        Settings(argon2_time_cost=1)


def test_tokens_default_to_fifteen_minutes() -> None:
    assert Settings().access_token_ttl_seconds == 900
