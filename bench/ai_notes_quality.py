"""Retrieval quality of ai-notes search: `uv run python -m bench.ai_notes_quality`.

The course: 60 lessons and 240 questions from SQuAD v1.1 (Wikipedia, CC BY-SA 4.0),
in services/ai-notes/tests/data/quality/ (see its README). Every ranker ranks the same
chunks for each question; a question counts as found at k when its lesson is among
the first k distinct lessons of the ranked chunks (recall@1, recall@5).

Rankers:
- BM25 (rank-bm25's Okapi BM25) on plain lower-cased words, and on stems without stop
  words (the stronger lexical baseline);
- the local provider's embeddings alone (cosine similarity);
- hybrid: reciprocal rank fusion of the two rankings above (stemmed BM25 standing in for
  PostgreSQL's full-text rank), as the service's search does;
- the service's real search over PostgreSQL: see `db_hybrid_ranker`, to plug in.

Chunks are the lessons' paragraphs, each indexed with its lesson title and heading path
in front (a question rarely repeats the lesson's subject), until the service's chunker
is used here. `make bench` runs it and writes its section into bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from edvent_ai_notes.adapters.providers.local import EmbeddingWeights, LocalProvider
from edvent_ai_notes.adapters.providers.local.text import content_stems, words

DATASET = (
    Path(__file__).resolve().parent.parent / "services/ai-notes/tests/data/quality/course.json"
)
DIMENSIONS = 1536  # as OpenAI's text-embedding-3-small, so both providers fit one column
RRF_K = 60


@dataclass(frozen=True, slots=True)
class BenchChunk:
    lesson_id: str
    heading_path: tuple[str, ...]
    text: str

    @property
    def indexed(self) -> str:
        return " / ".join(self.heading_path) + "\n\n" + self.text


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    lesson_id: str


# A ranker returns chunk indexes, best first, for one question.
Ranker = Callable[[str], Awaitable[list[int]]]


def load() -> tuple[dict[str, str], list[BenchChunk], list[Question]]:
    data = json.loads(DATASET.read_text())
    titles = {lesson["id"]: lesson["title"] for lesson in data["lessons"]}
    chunks = [
        chunk for lesson in data["lessons"] for chunk in split_paragraphs(lesson["id"], lesson)
    ]
    questions = [Question(q["question"], q["lesson_id"]) for q in data["questions"]]
    return titles, chunks, questions


def split_paragraphs(lesson_id: str, lesson: dict[str, str]) -> list[BenchChunk]:
    """The bench's own chunker: one chunk per paragraph, under the headings above it."""
    chunks: list[BenchChunk] = []
    path: list[tuple[int, str]] = []
    for block in lesson["markdown"].split("\n\n"):
        block = block.strip()
        if not block:
            continue
        if block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            path = [(lvl, text) for lvl, text in path if lvl < level]
            path.append((level, block.lstrip("#").strip()))
            continue
        heading_path = tuple(text for _, text in path) or (lesson["title"],)
        chunks.append(BenchChunk(lesson_id, heading_path, block))
    return chunks


def bm25_ranker(chunks: Sequence[BenchChunk], tokens: Callable[[str], list[str]]) -> Ranker:
    index = BM25Okapi([tokens(chunk.indexed) for chunk in chunks])

    async def rank(query: str) -> list[int]:
        scores = index.get_scores(tokens(query))
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    return rank


async def vector_ranker(chunks: Sequence[BenchChunk], provider: LocalProvider) -> Ranker:
    matrix = np.array(await provider.embed([chunk.indexed for chunk in chunks]))

    async def rank(query: str) -> list[int]:
        (vector,) = await provider.embed([query])
        scores = matrix @ np.array(vector)
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    return rank


def fused_ranker(*rankers: Ranker, depth: int = 100) -> Ranker:
    """Reciprocal rank fusion: score = Σ 1 / (RRF_K + rank) over the rankers' top `depth`."""

    async def rank(query: str) -> list[int]:
        scores: dict[int, float] = {}
        for ranker in rankers:
            for position, index in enumerate((await ranker(query))[:depth], start=1):
                scores[index] = scores.get(index, 0.0) + 1.0 / (RRF_K + position)
        return sorted(scores, key=lambda i: (-scores[i], i))

    return rank


async def db_hybrid_ranker(chunks: Sequence[BenchChunk]) -> Ranker | None:
    """PLUG-IN POINT for the service's real hybrid search over PostgreSQL.

    After the merge: start PostgreSQL (edvent_localstack.postgres.PostgresServer), run
    the ai-notes migrations, ingest each lesson of the dataset through the service's own
    chunker and the local provider (the pipeline's ingest step, without Kafka), then
    return a ranker that calls `usecases.search.search_chunks(session, provider=...,
    query=..., course_id=..., limit=...)` and maps each `SearchHit` to the index of its
    chunk here (or compare lessons directly). Until then there is nothing to measure.
    """
    del chunks
    return None


async def recall(
    ranker: Ranker, chunks: Sequence[BenchChunk], questions: Sequence[Question]
) -> tuple[float, float]:
    at1 = at5 = 0
    for question in questions:
        lessons: list[str] = []
        for index in await ranker(question.text):
            lesson = chunks[index].lesson_id
            if lesson not in lessons:
                lessons.append(lesson)
                if len(lessons) == 5:
                    break
        at1 += lessons[:1] == [question.lesson_id]
        at5 += question.lesson_id in lessons
    return at1 / len(questions), at5 / len(questions)


async def measure(provider: LocalProvider) -> list[tuple[str, float, float]]:
    _, chunks, questions = load()
    plain = bm25_ranker(chunks, words)
    stemmed = bm25_ranker(chunks, content_stems)
    vectors = await vector_ranker(chunks, provider)
    rankers: list[tuple[str, Ranker]] = [
        ("BM25, plain words", plain),
        ("BM25, stems without stop words", stemmed),
        ("local embeddings alone", vectors),
        ("hybrid: RRF of local embeddings and stemmed BM25", fused_ranker(vectors, stemmed)),
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
        vectors_variant = await vector_ranker(chunks, variant)
        rankers.append((f"local embeddings alone, {label}", vectors_variant))
        rankers.append((f"hybrid, {label}", fused_ranker(vectors_variant, stemmed)))
    database = await db_hybrid_ranker(chunks)
    if database is not None:
        rankers.append(("service search (PostgreSQL hybrid)", database))
    return [(name, *await recall(ranker, chunks, questions)) for name, ranker in rankers]


async def run() -> str:
    titles, chunks, questions = load()
    provider = LocalProvider(dimensions=DIMENSIONS)
    started = time.perf_counter()
    rows = await measure(provider)
    elapsed = time.perf_counter() - started
    await provider.close()
    lines = [
        "## ai-notes retrieval quality",
        "",
        f"{len(titles)} lessons ({len(chunks)} paragraph chunks) and {len(questions)} "
        "questions from SQuAD v1.1 (CC BY-SA 4.0); lesson-level recall of the ranked "
        f"chunks; local embeddings of {DIMENSIONS} dimensions; {elapsed:.1f} s in all.",
        "",
        "| ranking | recall@1 | recall@5 |",
        "|---|---|---|",
        *(f"| {name} | {at1:.1%} | {at5:.1%} |" for name, at1, at5 in rows),
        "",
        "SQuAD's questions share many words with their paragraph (the crowd workers read "
        "it), which favours BM25. The rows below the hybrid show what the local embeddings "
        "need to help: enough dimensions and the word-rarity weighting. The service's own "
        "search over PostgreSQL is not measured here yet (`db_hybrid_ranker`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
