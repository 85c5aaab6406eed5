"""ai-notes's settings come from its own environment variables."""

from __future__ import annotations

import pytest

from edvent_ai_notes.bootstrap import pipeline_options
from edvent_ai_notes.config import Settings


def test_settings_are_read_from_the_ai_notes_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_NOTES_DB_SCHEMA", "elsewhere")
    monkeypatch.setenv("DB_SCHEMA", "not-ours")
    assert Settings().db_schema == "elsewhere"


def test_the_schema_defaults_to_the_service_schema() -> None:
    assert Settings().db_schema == "ai_notes"


def test_without_a_key_the_provider_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert Settings().provider_name == "local"


def test_openai_without_a_key_and_another_dimension_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="needs"):
        Settings(provider="openai")
    with pytest.raises(ValueError, match="1536"):
        Settings(embedding_dimensions=384)


def test_the_sdk_variables_are_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://llm.internal/v1")
    settings = Settings()
    assert settings.provider_name == "openai"
    assert settings.openai_base_url == "http://llm.internal/v1"


def test_related_chunks_are_looked_up_only_for_the_provider_that_reads_them() -> None:
    assert pipeline_options(Settings(provider="local")).related_chunks_per_section == 0
    openai = Settings(provider="openai", openai_api_key="sk-test")
    assert pipeline_options(openai).related_chunks_per_section == 2
