"""Retrieval quality of ai-notes search: `uv run python -m bench.ai_notes_quality`.

The course: 60 lessons and 240 questions from SQuAD v1.1 (Wikipedia, CC BY-SA 4.0),
in services/ai-notes/tests/data/quality/ (see its README). Every ranker ranks the same
chunks for each question; a question counts as found at k when its lesson is among
the first k distinct lessons of the ranked chunks (recall@1, recall@5).

Rankers:
- BM25 (rank-bm25's Okapi BM25) on plain lower-cased words, and on stems without stop
  words (the stronger lexical baseline);
- the local provider's embeddings alone (cosine similarity);
- in-memory hybrid: reciprocal rank fusion of the two rankings above;
- the service's real search: PostgreSQL (pgvector and full-text) started by the bench,
  every lesson ingested with `edvent_ai_notes.testing.ingest_lesson` (the service's chunker and
  the local provider), each question asked through `usecases.search.search_chunks`.

Every ranker sees the same chunks: the service's chunker, each chunk indexed under its
heading path (`embedding_text`: the lesson title first, since a question rarely repeats
the lesson's subject). `make bench` runs it and writes its section into bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from bench.stack import infrastructure, migrated_database
from edvent_ai_notes.adapters.providers.local import EmbeddingWeights, LocalProvider
from edvent_ai_notes.adapters.providers.local.text import content_stems, words
from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.db.vectors import register_vectors
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.domain.chunking import chunk_markdown
from edvent_ai_notes.domain.notes import Chunk
from edvent_ai_notes.testing import ingest_lesson
from edvent_ai_notes.usecases.notes import PipelineOptions, embedding_text
from edvent_ai_notes.usecases.search import search_chunks, uncached
from edvent_platform.db import create_engine, session_factory, transaction

DATASET = (
    Path(__file__).resolve().parent.parent / "services/ai-notes/tests/data/quality/course.json"
)
DIMENSIONS = EMBEDDING_DIMENSIONS  # as OpenAI's text-embedding-3-small
RRF_K = 60
COURSE_ID = uuid.UUID("5e1f0000-0000-4000-8000-000000000000")


@dataclass(frozen=True, slots=True)
class Lesson:
    id: str
    title: str
    markdown: str

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.uuid5(COURSE_ID, self.id)


@dataclass(frozen=True, slots=True)
class BenchChunk:
    lesson_id: str
    chunk: Chunk

    @property
    def indexed(self) -> str:
        return embedding_text(self.chunk)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    lesson_id: str


# A chunk ranker returns chunk indexes, best first, for one question; a lesson ranker
# returns lesson ids, best first (repeats allowed).
ChunkRanker = Callable[[str], Awaitable[list[int]]]
LessonRanker = Callable[[str], Awaitable[list[str]]]


def load() -> tuple[list[Lesson], list[BenchChunk], list[Question]]:
    data = json.loads(DATASET.read_text())
    lessons = [Lesson(item["id"], item["title"], item["markdown"]) for item in data["lessons"]]
    options = PipelineOptions()
    chunks = [
        BenchChunk(lesson.id, chunk)
        for lesson in lessons
        for chunk in chunk_markdown(
            lesson.markdown, max_chars=options.chunk_max_chars, overlap=options.chunk_overlap_chars
        )
    ]
    questions = [Question(q["question"], q["lesson_id"]) for q in data["questions"]]
    return lessons, chunks, questions


def bm25_ranker(chunks: Sequence[BenchChunk], tokens: Callable[[str], list[str]]) -> ChunkRanker:
    index = BM25Okapi([tokens(chunk.indexed) for chunk in chunks])

    async def rank(query: str) -> list[int]:
        scores = index.get_scores(tokens(query))
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    return rank


async def vector_ranker(chunks: Sequence[BenchChunk], provider: LocalProvider) -> ChunkRanker:
    matrix = np.array(await provider.embed([chunk.indexed for chunk in chunks]))

    async def rank(query: str) -> list[int]:
        (vector,) = await provider.embed([query])
        scores = matrix @ np.array(vector)
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    return rank


def fused_ranker(*rankers: ChunkRanker, depth: int = 100) -> ChunkRanker:
    """Reciprocal rank fusion: score = Σ 1 / (RRF_K + rank) over the rankers' top `depth`."""

    async def rank(query: str) -> list[int]:
        scores: dict[int, float] = {}
        for ranker in rankers:
            for position, index in enumerate((await ranker(query))[:depth], start=1):
                scores[index] = scores.get(index, 0.0) + 1.0 / (RRF_K + position)
        return sorted(scores, key=lambda i: (-scores[i], i))

    return rank


def by_lesson(ranker: ChunkRanker, chunks: Sequence[BenchChunk]) -> LessonRanker:
    async def rank(query: str) -> list[str]:
        return [chunks[index].lesson_id for index in await ranker(query)]

    return rank


@contextlib.asynccontextmanager
async def service_search(
    lessons: Sequence[Lesson], provider: LocalProvider
) -> AsyncIterator[LessonRanker]:
    """The service's own search: real PostgreSQL, migrated, every lesson ingested by the
    pipeline's ingest step (no Kafka, S3 or generation), questions through
    `search_chunks` filtered by the course."""
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-ai-notes-quality-"))
    with infrastructure(work, kafka=False) as infra:
        url = migrated_database(infra.postgres, "ai-notes")
        engine = create_engine(url, schema="ai_notes", app_name="bench-ai-notes-quality")
        register_vectors(engine)
        sessions = session_factory(engine)
        by_uuid = {lesson.uuid: lesson.id for lesson in lessons}
        try:
            for order, lesson in enumerate(lessons):
                ref = LessonRef(
                    lesson_id=lesson.uuid, course_id=COURSE_ID, title=lesson.title,
                    order_index=order, content_key=f"quality/{lesson.id}.md",
                    content_sha256="0" * 64, published_at=datetime.now(UTC),
                )  # fmt: skip
                async with transaction(sessions) as session:
                    await ingest_lesson(
                        session, provider=provider, lesson=ref, markdown=lesson.markdown
                    )

            # Searched as a student: the course is published, so its lessons are served.
            async with transaction(sessions) as session:
                await notes_db.record_course_published(
                    session, course_id=COURSE_ID, owner_id=uuid.uuid4(), title="Quality",
                    at=datetime.now(UTC),
                )  # fmt: skip
            student = Actor(user_id=uuid.uuid4(), role="STUDENT")
            queries = uncached(provider)

            async def rank(query: str) -> list[str]:
                async with transaction(sessions) as session:
                    hits = await search_chunks(
                        session, queries=queries, actor=student, query=query,
                        course_id=COURSE_ID, limit=5,
                    )  # fmt: skip
                return [by_uuid[hit.lesson_id] for hit in hits]

            yield rank
        finally:
            await engine.dispose()


async def recall(ranker: LessonRanker, questions: Sequence[Question]) -> tuple[float, float]:
    at1 = at5 = 0
    for question in questions:
        lessons: list[str] = []
        for lesson in await ranker(question.text):
            if lesson not in lessons:
                lessons.append(lesson)
                if len(lessons) == 5:
                    break
        at1 += lessons[:1] == [question.lesson_id]
        at5 += question.lesson_id in lessons
    return at1 / len(questions), at5 / len(questions)


async def measure(
    provider: LocalProvider, *, variants: bool = True, database: bool = True
) -> list[tuple[str, float, float]]:
    lessons, chunks, questions = load()
    plain = bm25_ranker(chunks, words)
    stemmed = bm25_ranker(chunks, content_stems)
    vectors = await vector_ranker(chunks, provider)
    rankers: list[tuple[str, LessonRanker]] = [
        ("BM25, plain words", by_lesson(plain, chunks)),
        ("BM25, stems without stop words", by_lesson(stemmed, chunks)),
        ("local embeddings alone (in memory)", by_lesson(vectors, chunks)),
        (
            "in-memory hybrid: RRF of local embeddings and stemmed BM25",
            by_lesson(fused_ranker(vectors, stemmed), chunks),
        ),
    ]
    # What the local embeddings need to beat BM25: enough dimensions and word rarity.
    for label, variant in (
        ("384 dimensions", LocalProvider(dimensions=384)),
        (
            "no word-rarity weighting",
            LocalProvider(
                dimensions=provider.dimensions,
                weights=EmbeddingWeights(rarity_ceiling=0.0, rarity_floor=1.0),
            ),
        ),
    ):
        if not variants:
            break
        vectors_variant = await vector_ranker(chunks, variant)
        rankers.append((f"local embeddings alone, {label}", by_lesson(vectors_variant, chunks)))
        rankers.append(
            (
                f"in-memory hybrid, {label}",
                by_lesson(fused_ranker(vectors_variant, stemmed), chunks),
            )
        )
    rows = [(name, *await recall(ranker, questions)) for name, ranker in rankers]
    if database:
        async with service_search(lessons, provider) as search:
            rows.append(("**service search** (PostgreSQL hybrid, local provider)",
                         *await recall(search, questions)))  # fmt: skip
    return rows


async def run() -> str:
    lessons, chunks, questions = load()
    provider = LocalProvider(dimensions=DIMENSIONS)
    started = time.perf_counter()
    rows = await measure(provider)
    elapsed = time.perf_counter() - started
    await provider.close()
    lines = [
        "## ai-notes retrieval quality",
        "",
        f"{len(lessons)} lessons ({len(chunks)} chunks by the service's chunker) and "
        f"{len(questions)} questions from SQuAD v1.1 (CC BY-SA 4.0); lesson-level recall "
        f"of the ranked chunks; local embeddings of {DIMENSIONS} dimensions; "
        f"{elapsed:.1f} s in all.",
        "",
        "| ranking | recall@1 | recall@5 |",
        "|---|---|---|",
        *(f"| {name} | {at1:.1%} | {at5:.1%} |" for name, at1, at5 in rows),
        "",
        "SQuAD's questions share many words with their paragraph (the crowd workers read "
        "it), which favours BM25. The middle rows show what the local embeddings need to "
        "help: enough dimensions and the word-rarity weighting. The last row is the "
        "service's real search (`search_chunks` over PostgreSQL, the lessons ingested by "
        "the pipeline's own chunker and the local provider).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
