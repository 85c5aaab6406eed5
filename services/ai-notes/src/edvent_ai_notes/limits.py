"""Limits in front of the LLM provider, per process: a cap on generations in flight,
and search's own lane (a semaphore and a cache of recent question embeddings), so a
flood of searches never queues in front of the note pipeline."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from edvent_ai_notes import metrics
from edvent_ai_notes.adapters.providers import NotesProvider


class Busy(Exception):  # noqa: N818 - named for what happened
    """No slot freed within the limiter's wait: the caller sheds the request (503)."""


class Limiter:
    """At most `slots` holders at once; waits are measured, and bounded by `max_wait`
    when one is given (past it, `Busy`)."""

    def __init__(self, *, name: str, slots: int, max_wait: float | None = None) -> None:
        self.name = name
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.max_wait)
        except TimeoutError:
            metrics.LIMITER_REFUSED.labels(self.name).inc()
            raise Busy(self.name) from None
        finally:
            metrics.LIMITER_WAIT.labels(self.name).observe(time.monotonic() - started)
        try:
            yield
        finally:
            self._slots.release()


class QueryEmbeddings:
    """Search questions' embeddings: the recent ones from a small LRU cache, the rest
    through search's own limiter, never the pipeline's."""

    def __init__(
        self,
        *,
        provider: NotesProvider,
        limiter: Limiter,
        cache_size: int,
        ttl_seconds: float,
    ) -> None:
        self.provider = provider
        self.limiter = limiter
        self.cache_size = cache_size
        self.ttl_seconds = ttl_seconds
        self._cache: OrderedDict[str, tuple[float, list[float]]] = OrderedDict()

    async def embed(self, query: str) -> list[float]:
        key = " ".join(query.split())
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_seconds:
            self._cache.move_to_end(key)
            metrics.QUERY_CACHE.labels("hit").inc()
            return cached[1]
        metrics.QUERY_CACHE.labels("miss").inc()
        async with self.limiter.slot():
            try:
                with metrics.llm_call(self.provider.name, "query"):
                    [vector] = await self.provider.embed([query])
            except Exception:
                metrics.LLM_REQUESTS.labels(self.provider.name, "query", "error").inc()
                raise
        metrics.LLM_REQUESTS.labels(self.provider.name, "query", "ok").inc()
        metrics.LLM_TOKENS.labels(self.provider.name, "embedding").inc(estimated_tokens(query))
        if self.cache_size > 0:
            self._cache[key] = (time.monotonic(), vector)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vector


def estimated_tokens(*texts: str) -> int:
    """Embedding calls report no usage through the provider interface: ~4 characters a
    token, the usual rule for English."""
    return sum(len(t) for t in texts) // 4 + len(texts)
