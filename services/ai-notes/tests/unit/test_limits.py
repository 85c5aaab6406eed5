"""The limiters in front of the provider: search's lane sheds rather than queues, and
recent questions come from the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from edvent_ai_notes.domain.notes import GeneratedNote, LessonSource
from edvent_ai_notes.limits import Busy, Limiter, QueryEmbeddings


class CountingEmbedder:
    name = "counting"
    dimensions = 2

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.extend(texts)
        if self.gate is not None:
            await self.gate.wait()
        return [[1.0, 0.0] for _ in texts]

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        raise NotImplementedError

    async def close(self) -> None:
        return None


def _queries(provider: CountingEmbedder, *, slots: int = 1, cache: int = 2) -> QueryEmbeddings:
    return QueryEmbeddings(
        provider=provider,
        limiter=Limiter(name="search", slots=slots, max_wait=0.05),
        cache_size=cache,
        ttl_seconds=60,
    )


async def test_a_recent_question_is_answered_from_the_cache() -> None:
    provider = CountingEmbedder()
    queries = _queries(provider)
    await queries.embed("what is  entropy")
    await queries.embed("what is entropy")  # the same words, spaced differently
    assert provider.calls == ["what is  entropy"]


async def test_the_cache_keeps_only_the_most_recent_questions() -> None:
    provider = CountingEmbedder()
    queries = _queries(provider, cache=2)
    for q in ("a", "b", "a", "c", "a", "b"):
        await queries.embed(q)
    # "b" was the least recently used when "c" came in; "a" stayed.
    assert provider.calls == ["a", "b", "c", "b"]


async def test_a_full_lane_sheds_a_search_instead_of_queueing_it() -> None:
    provider = CountingEmbedder()
    provider.gate = asyncio.Event()
    queries = _queries(provider, slots=1, cache=0)
    first = asyncio.create_task(queries.embed("first"))
    await asyncio.sleep(0)
    with pytest.raises(Busy):
        await queries.embed("second")
    provider.gate.set()
    assert await first == [1.0, 0.0]


async def test_a_limiter_without_a_wait_bound_waits_its_turn() -> None:
    limiter = Limiter(name="generation", slots=1)
    order: list[str] = []

    async def hold(name: str) -> None:
        async with limiter.slot():
            order.append(name)
            await asyncio.sleep(0.01)

    await asyncio.gather(hold("a"), hold("b"), hold("c"))
    assert order == ["a", "b", "c"]
