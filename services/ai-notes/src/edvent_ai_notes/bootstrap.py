"""ai-notes's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.adapters.storage import LessonBodies
from edvent_ai_notes.config import Settings
from edvent_ai_notes.domain.notes import GeneratedNote, LessonSource
from edvent_ai_notes.jobs import NoteJobs, TermStatsRefresh
from edvent_ai_notes.limits import Limiter, QueryEmbeddings
from edvent_ai_notes.usecases.budget import TokenBudget
from edvent_ai_notes.usecases.notes import Pipeline, PipelineOptions, RegenerateLimits
from edvent_platform.auth import TokenVerifier, jwks_token_verifier
from edvent_platform.jobs import JobRunner

logger = logging.getLogger("edvent.ai_notes")


def build_provider(settings: Settings, *, concurrency: int | None = None) -> NotesProvider:
    """The configured provider: `openai` when a key is set, else `local`. `concurrency`
    overrides the requests in flight (search's own openai client)."""
    if settings.provider_name == "openai":
        from edvent_ai_notes.adapters.providers.openai import OpenAIProvider

        assert settings.openai_api_key is not None  # Settings refuses openai without one
        return OpenAIProvider(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            chat_model=settings.chat_model,
            embedding_model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            timeout=settings.openai_timeout_seconds,
            max_retries=settings.openai_max_retries,
            concurrency=concurrency or settings.openai_concurrency,
            embedding_batch_size=settings.embedding_batch_size,
        )
    return LazyLocalProvider(dimensions=settings.embedding_dimensions)


class LazyLocalProvider:
    """The local provider, imported on its first use in a worker thread: scikit-learn,
    SciPy and networkx take seconds to import (tens on a busy 2-core machine), which
    would hold up the service's start and its health check, and the openai provider
    never needs them."""

    def __init__(self, *, dimensions: int) -> None:
        self._dimensions = dimensions
        self._provider: NotesProvider | None = None
        self._loading = asyncio.Lock()

    @property
    def name(self) -> str:
        return "local"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def _loaded(self) -> NotesProvider:
        async with self._loading:
            if self._provider is None:
                self._provider = await asyncio.to_thread(_local_provider, self._dimensions)
            return self._provider

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await (await self._loaded()).embed(texts)

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        return await (await self._loaded()).generate_notes(lesson=lesson)

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()


def _local_provider(dimensions: int) -> NotesProvider:
    try:
        from edvent_ai_notes.adapters.providers.local import LocalProvider
    except ImportError as exc:
        # An image built without the `local` extra, and no OpenAI key configured.
        raise RuntimeError(
            "the local provider's libraries are not installed: install edvent-ai-notes[local],"
            " or set AI_NOTES_OPENAI_API_KEY to use an OpenAI-compatible server"
        ) from exc

    return LocalProvider(dimensions=dimensions)


def pipeline_options(settings: Settings) -> PipelineOptions:
    return PipelineOptions(
        max_lesson_bytes=settings.max_lesson_bytes,
        chunk_max_chars=settings.chunk_max_chars,
        chunk_overlap_chars=settings.chunk_overlap_chars,
        # The local provider writes from the lesson alone: looking up related chunks
        # of the course for it would be a vector query per section, thrown away.
        related_chunks_per_section=(
            settings.related_chunks_per_section if settings.provider_name == "openai" else 0
        ),
    )


@dataclass
class AiNotes:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    bodies: LessonBodies
    provider: NotesProvider
    pipeline: Pipeline
    # Verifies access tokens with identity's JWKS, fetched over HTTP and cached.
    verifier: TokenVerifier
    # Search questions' embeddings: their own lane to the provider, and a cache.
    queries: QueryEmbeddings
    # Regenerations and notes put off by the budget (the note_jobs table).
    jobs: NoteJobs
    term_stats: TermStatsRefresh
    regenerate_limits: RegenerateLimits
    # search's own openai client, when it is not the pipeline's provider
    search_provider: NotesProvider | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        provider: NotesProvider | None = None,
    ) -> AiNotes:
        bodies = LessonBodies.from_settings(settings)
        search_provider: NotesProvider | None = None
        if provider is None:
            provider = build_provider(settings)
            if settings.provider_name == "openai":
                # Its own client and connection limit: a search flood cannot take the
                # pipeline's slots at the provider.
                search_provider = build_provider(settings, concurrency=settings.search_concurrency)
        pipeline = Pipeline(
            sessions=sessions,
            bodies=bodies,
            provider=provider,
            options=pipeline_options(settings),
            generation=Limiter(name="generation", slots=settings.max_inflight_generations),
            budget=TokenBudget(
                provider=provider.name,
                daily_tokens=settings.daily_token_budget,
                recheck=timedelta(seconds=settings.budget_recheck_seconds),
            ),
        )
        queries = QueryEmbeddings(
            provider=search_provider or provider,
            limiter=Limiter(
                name="search",
                slots=settings.search_concurrency,
                max_wait=settings.search_max_wait_seconds,
            ),
            cache_size=settings.search_cache_size,
            ttl_seconds=settings.search_cache_ttl_seconds,
        )
        jobs = NoteJobs(
            pipeline=pipeline,
            workers=settings.job_workers,
            poll_interval=settings.job_poll_seconds,
            lease=timedelta(seconds=settings.job_lease_seconds),
            max_attempts=settings.job_max_attempts,
        )
        return cls(
            settings=settings,
            sessions=sessions,
            bodies=bodies,
            provider=provider,
            pipeline=pipeline,
            verifier=jwks_token_verifier(settings),
            queries=queries,
            jobs=jobs,
            term_stats=TermStatsRefresh(
                sessions=sessions, interval=settings.term_stats_refresh_seconds
            ),
            regenerate_limits=RegenerateLimits(
                per_window=settings.regenerate_per_window,
                window=timedelta(seconds=settings.regenerate_window_seconds),
            ),
            search_provider=search_provider,
        )

    def register_jobs(self, runner: JobRunner) -> None:
        self.jobs.register(runner)
        self.term_stats.register(runner)

    async def start(self) -> None:
        """Nothing opens before serving: the provider loads on first use, and the note
        jobs start with the service's job runner."""

    async def stop(self) -> None:
        # The job runner has stopped the note jobs by now (before the shutdown hooks).
        await self.verifier.aclose()
        await self.provider.close()
        if self.search_provider is not None:
            await self.search_provider.close()
        self.bodies.close()
