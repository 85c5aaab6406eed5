"""The ai-notes service's settings: environment variables prefixed AI_NOTES_.

The openai provider also reads the SDK's own `OPENAI_API_KEY` and `OPENAI_BASE_URL`
when the prefixed settings are not set.
"""

from __future__ import annotations

import os
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from edvent_platform.auth import AuthSettings
from edvent_platform.settings import ServiceSettings

# The pgvector column's dimension, fixed by migration 0003: every provider's vectors have
# this length (the openai provider asks the embeddings API for it with `dimensions=`).
EMBEDDING_DIMENSIONS = 1536


class Settings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="AI_NOTES_")

    database_url: str = "postgresql+psycopg://ai_notes:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "ai_notes"
    # The pipeline (S3 read, embeddings, generation) runs inside one consumer attempt.
    consumer_handler_timeout_seconds: float = Field(default=180.0, gt=0)

    # Lesson bodies: content's bucket, read only.
    s3_endpoint_url: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "edvent-lessons"
    s3_connect_timeout_seconds: float = Field(default=2, gt=0)
    s3_read_timeout_seconds: float = Field(default=10, gt=0)
    s3_max_attempts: int = Field(default=2, ge=1)
    s3_threads: int = Field(default=4, ge=1)

    # `openai` when a key is set (here or as OPENAI_API_KEY), else `local`.
    provider: Literal["openai", "local"] | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    chat_model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int = EMBEDDING_DIMENSIONS
    openai_timeout_seconds: float = Field(default=60, gt=0)
    # Tries per request on 429, 5xx and connection errors, waiting as Retry-After says
    # (or backing off exponentially); then the pipeline attempt fails.
    openai_max_retries: int = Field(default=4, ge=0)
    # Requests in flight to the provider at once, per process.
    openai_concurrency: int = Field(default=4, ge=1)
    embedding_batch_size: int = Field(default=64, ge=1)

    # Larger lesson bodies are not summarised: their note fails at once with the reason
    # (content accepts up to 5 MiB; notes of a megabyte of prose already take seconds).
    max_lesson_bytes: int = Field(default=1024 * 1024, ge=1)
    # Chunking: the most characters per chunk and how many overlap the previous one.
    chunk_max_chars: int = Field(default=1200, ge=200)
    chunk_overlap_chars: int = Field(default=150, ge=0)
    # Context for generation: related chunks of other lessons of the course per section.
    related_chunks_per_section: int = Field(default=2, ge=0)

    # The LLM budget (README, "Limits and budget").
    # Generations (embedding a lesson and writing its notes) in flight per process.
    max_inflight_generations: int = Field(default=4, ge=1)
    # Search's own lane to the provider: questions embedded at once per process, how
    # long one may wait for a slot before the search is shed (503), and the cache of
    # recent questions' embeddings.
    search_concurrency: int = Field(default=4, ge=1)
    search_max_wait_seconds: float = Field(default=2.0, gt=0)
    search_cache_size: int = Field(default=1024, ge=0)
    search_cache_ttl_seconds: float = Field(default=600, gt=0)
    # How often the search's word counts (term_stats) are recounted when lessons,
    # courses or chunks changed: changes within one interval cost one recount. Also
    # about how long (with the recount's own time) an unpublished lesson's words may
    # still weigh in the IDF (they were public).
    term_stats_refresh_seconds: float = Field(default=10.0, gt=0)
    # Regenerate requests per caller per window (every replica together).
    regenerate_per_window: int = Field(default=20, ge=1)
    regenerate_window_seconds: int = Field(default=600, ge=1)
    # Note jobs (regenerations, notes put off by the budget): workers per process, how
    # often idle workers look, how long a claimed job is held, tries per job.
    job_workers: int = Field(default=2, ge=1)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    job_lease_seconds: int = Field(default=600, ge=10)
    job_max_attempts: int = Field(default=3, ge=1)
    # Tokens the provider may spend per UTC day (0: no budget); once spent, notes wait
    # `pending` and resume when the budget returns. Looked at again every few minutes.
    daily_token_budget: int = Field(default=0, ge=0)
    budget_recheck_seconds: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _fill_from_openai_environment(self) -> Self:
        if self.embedding_dimensions != EMBEDDING_DIMENSIONS:
            raise ValueError(
                f"embedding_dimensions must be {EMBEDDING_DIMENSIONS}, the pgvector column's"
                " size (a new dimension needs a migration and re-embedding)"
            )
        # Frozen model: fill the SDK's own variables in through object.__setattr__.
        if self.openai_api_key is None and os.environ.get("OPENAI_API_KEY"):
            object.__setattr__(self, "openai_api_key", SecretStr(os.environ["OPENAI_API_KEY"]))
        if self.openai_base_url is None and os.environ.get("OPENAI_BASE_URL"):
            object.__setattr__(self, "openai_base_url", os.environ["OPENAI_BASE_URL"])
        if self.provider is None:
            object.__setattr__(self, "provider", "openai" if self.openai_api_key else "local")
        if self.provider == "openai" and self.openai_api_key is None:
            raise ValueError("the openai provider needs AI_NOTES_OPENAI_API_KEY or OPENAI_API_KEY")
        return self

    @property
    def provider_name(self) -> Literal["openai", "local"]:
        return self.provider or "local"

    def secret_fields(self) -> tuple[str, ...]:
        # The S3 access key is no secret by itself, but its `changethis` default is.
        return (*super().secret_fields(), "s3_access_key")
