"""Settings rules for keys at rest, key retention, refresh families and hashing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from edvent_identity.bootstrap import key_retention, passwords_from
from edvent_identity.config import Settings

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://identity:Xq9-real-secret@db:5432/edvent",
}


def test_production_refuses_to_start_without_a_key_encryption_secret() -> None:
    with pytest.raises(ValidationError, match="IDENTITY_SIGNING_KEY_PASSPHRASE"):
        Settings(**PRODUCTION)


def test_production_starts_with_a_key_encryption_secret_or_a_configured_key() -> None:
    Settings(**PRODUCTION, signing_key_passphrase="a real key-encryption secret")
    Settings(**PRODUCTION, signing_key_file="/run/secrets/identity-signing-key.pem")


def test_development_may_store_keys_unencrypted() -> None:
    assert Settings(environment="development").signing_key_passphrase is None


def test_retired_keys_stay_published_through_the_reload_interval_and_a_token_lifetime() -> None:
    settings = Settings(
        access_token_ttl_seconds=900, signing_key_reload_seconds=60, jwt_leeway_seconds=30
    )
    # A token signed by an instance that reloads just before its next reload, right
    # after the rotation, lives until 60 + 900 s after it; plus leeway for clocks.
    assert key_retention(settings) == timedelta(seconds=900 + 60 + 2 * 30)


def test_refresh_families_live_thirty_days_by_default() -> None:
    assert Settings().refresh_family_max_age_seconds == 30 * 86_400


def test_hashing_admits_workers_plus_queue_requests() -> None:
    passwords = passwords_from(Settings(password_hashing_workers=2, password_hashing_queue=3))
    assert passwords.capacity == 5
