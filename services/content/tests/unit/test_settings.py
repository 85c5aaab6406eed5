"""content's settings come from its own environment variables."""

from __future__ import annotations

import pytest

from edvent_content.config import Settings


def test_settings_are_read_from_the_content_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENT_DB_SCHEMA", "elsewhere")
    monkeypatch.setenv("DB_SCHEMA", "not-ours")
    assert Settings().db_schema == "elsewhere"


def test_the_schema_defaults_to_the_service_schema() -> None:
    assert Settings().db_schema == "content"
