"""Production refuses every development secret of this service's settings (#26.4)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edvent_content.config import Settings

SECRET_FIELDS = ("s3_access_key", "s3_secret_key")
REAL_DATABASE_URL = "postgresql+psycopg://svc:Xq9-a-real-secret@db:5432/edvent"
# What a production start needs besides secrets (identity's key passphrase).
BASE: dict[str, object] = {"environment": "production", "database_url": REAL_DATABASE_URL}
if "signing_key_passphrase" in SECRET_FIELDS:
    BASE["signing_key_passphrase"] = "Xq9-a-real-key-encryption-secret"


def test_every_secret_field_is_listed() -> None:
    assert set(SECRET_FIELDS) <= set(Settings(**BASE).secret_fields())  # type: ignore[arg-type]


@pytest.mark.parametrize("field", SECRET_FIELDS)
@pytest.mark.parametrize("value", ["changethis", "dev-password"])
def test_production_refuses_a_development_value(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{**BASE, field: value})  # type: ignore[arg-type]


def test_production_refuses_a_development_database_password() -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(**{**BASE, "database_url": "postgresql+psycopg://svc:changethis@db/edvent"})  # type: ignore[arg-type]


def test_production_starts_with_real_secrets() -> None:
    values = {field: f"Xq9-real-{field}" for field in SECRET_FIELDS}
    assert Settings(**{**BASE, **values}).environment == "production"  # type: ignore[arg-type]
