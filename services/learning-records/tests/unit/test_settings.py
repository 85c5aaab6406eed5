"""Production refuses the development LRS password, like every other secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edvent_learning_records.config import Settings


def test_production_refuses_the_development_lrs_password() -> None:
    with pytest.raises(ValidationError, match="lrs_password"):
        Settings(
            environment="production",
            database_url="postgresql+psycopg://learning_records:real-secret@db/edvent",
        )


def test_production_takes_a_real_lrs_password() -> None:
    settings = Settings(
        environment="production",
        database_url="postgresql+psycopg://learning_records:real-secret@db/edvent",
        lrs_password="a-real-lrs-secret",
    )
    assert settings.lrs_password.get_secret_value() == "a-real-lrs-secret"
