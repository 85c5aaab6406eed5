"""ai-notes search as the corpus grows: `uv run python -m bench.ai_notes_scale`.

Real PostgreSQL with pgvector, migrated by `edvent-ai-notes migrate`; lessons ingested
with the service's chunker and the local provider (`edvent_ai_notes.testing.ingest_lesson`),
in 20 published courses plus one draft course a student may not see. At 400 lessons and
again at BENCH_SCALE_LESSONS (default 4,000), BENCH_SCALE_SEARCHES (default 200) searches
as a student through `search_chunks`, one at a time, within one course and across
courses: p50 / p99, and EXPLAIN ANALYZE of one search of each kind, so the plans show
whether each side of the hybrid uses its index. No hit may come from the draft course.
The search's word counts (term_stats) are recounted once the corpus is built, as the
service's job would. BENCH_SCALE_BEFORE=1 also times the statement before 2026-12-08
(bench/search_before.py) on the same questions, alternating with the service's.

Building lessons one by one (an HNSW insert per chunk, a commit per lesson) ran at 17 a
minute on a loaded machine. Here a process pool chunks and embeds them (the service's
`embedded_chunks` with the local provider), `ingest_lesson` stores each with those
vectors, 50 lessons a transaction, and the HNSW index is dropped while the corpus grows
and built again from its own definition (`pg_get_indexdef`) afterwards: the rows and
indexes the service writes, the graph built in one go.

Lessons are about 1,500 words: general English drawn by its frequency (wordfreq's list)
with each course's own vocabulary of rarer words mixed in, so word frequencies look like
a real catalogue's (a few words everywhere, most in a few lessons). Questions are a few
words of a random visible lesson, some of its course's words among them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import psycopg
import wordfreq
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import percentile, search_before
from bench.stack import infrastructure, migrated_database
from edvent_ai_notes.adapters.providers.local import LocalProvider
from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db import term_stats as term_stats_db
from edvent_ai_notes.db.notes import LessonRef, visibility_params
from edvent_ai_notes.db.term_stats import CATALOGUE
from edvent_ai_notes.db.vectors import as_vector, register_vectors
from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.limits import QueryEmbeddings
from edvent_ai_notes.testing import ingest_lesson
from edvent_ai_notes.usecases.notes import PipelineOptions, embedded_chunks, embedding_text
from edvent_ai_notes.usecases.search import (
    LEXICAL_BUDGET,
    PLANNER_SETTINGS,
    SEARCH,
    search_chunks,
    uncached,
)
from edvent_platform.db import create_engine, session_factory, transaction

COURSES = 20
SIZES = (400,)
TARGET_MS = 100.0
COURSE_WORDS = 150  # each course's own vocabulary
GENERAL_WORDS = 20_000  # the general English the lessons are written in
BATCH = 50  # lessons a worker prepares, and a transaction stores, at a time
HNSW_INDEX = "ai_notes.ix_lesson_chunks_embedding"


@dataclass(frozen=True)
class Vocabulary:
    general: list[str]
    cumulative: list[float]  # of the words' frequencies: `random.choices` sums them each call
    courses: list[list[str]]


def vocabulary(seed: int) -> Vocabulary:
    rng = random.Random(seed)
    ranked = [
        word for word in wordfreq.top_n_list("en", 60_000) if re.fullmatch(r"[a-z]{3,}", word)
    ]
    general = ranked[:GENERAL_WORDS]
    frequencies = [wordfreq.word_frequency(word, "en") for word in general]
    rare = ranked[GENERAL_WORDS:]
    courses = [rng.sample(rare, COURSE_WORDS) for _ in range(COURSES + 1)]
    return Vocabulary(general, list(accumulate(frequencies)), courses)


def lesson_markdown(words: Vocabulary, course: int, seed: int, *, length: int = 1500) -> str:
    """About `length` words in sections of paragraphs; one word in eight is the course's."""
    rng = random.Random(seed)
    own = words.courses[course]
    focus = rng.sample(own, 20)  # this lesson's subject within its course
    parts = [f"# Lesson {seed}\n"]
    count = 0
    while count < length:
        parts.append(f"\n## {' '.join(rng.sample(focus, 2)).title()}\n")
        for _ in range(rng.randint(2, 4)):
            sentence_words = rng.choices(
                words.general, cum_weights=words.cumulative, k=rng.randint(60, 110)
            )
            for position in range(0, len(sentence_words), 8):
                sentence_words[position] = rng.choice(focus if rng.random() < 0.7 else own)
            count += len(sentence_words)
            sentences = [
                " ".join(sentence_words[i : i + 12]).capitalize() + "."
                for i in range(0, len(sentence_words), 12)
            ]
            parts.append("\n" + " ".join(sentences) + "\n")
    return "".join(parts)


def question(markdown: str, rng: random.Random) -> str:
    """Six words of one paragraph of the lesson, as a student might ask about it."""
    paragraphs = [p for p in markdown.split("\n") if p and not p.startswith("#")]
    tokens = re.findall(r"[a-z]+", rng.choice(paragraphs).lower())
    start = rng.randrange(max(1, len(tokens) - 12))
    return " ".join(rng.sample(tokens[start : start + 12], 6))


@dataclass(frozen=True)
class Prepared:
    """One lesson's body and what the local provider embeds of it, in order."""

    course: int
    seed: int
    markdown: str
    texts: list[str]
    vectors: list[list[float]]


_worker_words: Vocabulary | None = None


def _start_worker(words: Vocabulary) -> None:
    global _worker_words
    _worker_words = words


def _prepare(lessons: list[tuple[int, int]]) -> list[Prepared]:
    """In a worker process: each (course, seed)'s body, chunked and embedded by the
    service's own `embedded_chunks` and local provider."""
    assert _worker_words is not None
    provider = LocalProvider(dimensions=EMBEDDING_DIMENSIONS)

    async def prepare_all() -> list[Prepared]:
        prepared = []
        for course, seed in lessons:
            markdown = lesson_markdown(_worker_words, course, seed)
            chunks, vectors = await embedded_chunks(
                provider=provider, markdown=markdown, options=PipelineOptions()
            )
            texts = [embedding_text(chunk) for chunk in chunks]
            prepared.append(Prepared(course, seed, markdown, texts, vectors))
        return prepared

    return asyncio.run(prepare_all())


class Precomputed(LocalProvider):
    """The local provider, answering `ingest_lesson` with the vectors a worker computed
    for exactly these texts (checked), so the stored rows are `ingest_lesson`'s own."""

    def __init__(self, lesson: Prepared) -> None:
        super().__init__(dimensions=EMBEDDING_DIMENSIONS)
        self._lesson = lesson

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        assert list(texts) == self._lesson.texts, "chunks differ from the worker's"
        return self._lesson.vectors


@dataclass
class Corpus:
    sessions: async_sessionmaker[AsyncSession]
    provider: LocalProvider
    words: Vocabulary
    course_ids: list[uuid.UUID]  # the published ones; the last of `all_ids` is a draft
    draft_id: uuid.UUID
    admin_dsn: str
    lessons: list[tuple[int, int]] = None  # type: ignore[assignment]  # (course, seed)

    def __post_init__(self) -> None:
        self.lessons = []

    def _wanted(self, total: int) -> list[tuple[int, int]]:
        """(course, seed) of the lessons to add: round-robin over the courses until
        `total` published ones, one draft-course lesson for every 20."""
        wanted = []
        for seed in range(len(self.lessons), total):
            wanted.append((seed % COURSES, seed))
            if seed % 20 == 0:
                wanted.append((COURSES, 1_000_000 + seed))
        return wanted

    async def grow(self, total: int) -> None:
        wanted = self._wanted(total)
        async with await psycopg.AsyncConnection.connect(self.admin_dsn, autocommit=True) as admin:
            cursor = await admin.execute("SELECT pg_get_indexdef(%s::regclass)", (HNSW_INDEX,))
            (definition,) = await cursor.fetchone() or ("",)
            await admin.execute(f"DROP INDEX {HNSW_INDEX}")
            started = time.perf_counter()
            for batch in _prepared(self.words, wanted):
                async with transaction(self.sessions) as session:
                    for lesson in batch:
                        await self._ingest(session, lesson)
                self.lessons += [(p.course, p.seed) for p in batch if p.course < COURSES]
            ingested = time.perf_counter() - started
            # The whole graph in memory, as pgvector's docs advise for a build.
            await admin.execute("SET maintenance_work_mem = '2GB'")
            started = time.perf_counter()
            await admin.execute(definition)
            print(
                f"ai-notes scale: {len(self.lessons):,} lessons, {len(wanted):,} added in "
                f"{ingested:.0f} s, HNSW index built in {time.perf_counter() - started:.0f} s",
                flush=True,
            )

    async def _ingest(self, session: AsyncSession, lesson: Prepared) -> None:
        course_id = self.course_ids[lesson.course] if lesson.course < COURSES else self.draft_id
        ref = LessonRef(
            lesson_id=uuid.uuid4(), course_id=course_id, title=f"Lesson {lesson.seed}",
            order_index=lesson.seed, content_key=f"scale/{lesson.seed}.md",
            content_sha256="0" * 64, published_at=datetime.now(UTC),
        )  # fmt: skip
        await ingest_lesson(
            session, provider=Precomputed(lesson), lesson=ref, markdown=lesson.markdown
        )


def _prepared(words: Vocabulary, wanted: list[tuple[int, int]]) -> Iterator[list[Prepared]]:
    """Batches of prepared lessons in order, a few batches ahead of the caller."""
    batches = [wanted[i : i + BATCH] for i in range(0, len(wanted), BATCH)]
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(
        workers, context, initializer=_start_worker, initargs=(words,)
    ) as pool:
        ahead: list[Future[list[Prepared]]] = []
        for batch in batches:
            ahead.append(pool.submit(_prepare, batch))
            if len(ahead) > 2 * workers:
                yield ahead.pop(0).result()
        for future in ahead:
            yield future.result()


@dataclass(frozen=True)
class Timing:
    lessons: int
    chunks: int
    scope: str
    p50: float
    p99: float
    plan: str
    recount_s: float  # term_stats recounted from nothing
    before: tuple[float, float] | None = None  # the statement before 2026-12-08: p50, p99


async def _params(
    provider: LocalProvider, actor: Actor, query: str, course: uuid.UUID | None
) -> dict[str, Any]:
    (vector,) = await provider.embed([query])
    return {
        "q": query,
        "vector": as_vector(vector),
        "course_id": course,
        "limit": 10,
        "budget": LEXICAL_BUDGET,
        "catalogue": CATALOGUE,
        **visibility_params(access.note_filter(actor)),
    }


async def measure(
    corpus: Corpus, searches: int, admin_dsn: str, *, before: bool = False
) -> list[Timing]:
    started = time.perf_counter()
    async with transaction(corpus.sessions) as session:
        await term_stats_db.refresh(session)
    recount_s = time.perf_counter() - started
    # Fresh statistics, as autovacuum would have them (it never analyzes a 21-row courses
    # table); by the owner, since the service's role may not analyze the tables.
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as admin:
        await admin.execute(
            "ANALYZE ai_notes.lessons, ai_notes.courses, ai_notes.lesson_chunks,"
            " ai_notes.term_stats, ai_notes.term_stats_totals"
        )
    async with corpus.sessions() as session:
        chunks = int(await session.scalar(text("SELECT count(*) FROM lesson_chunks")) or 0)
    student = Actor(user_id=uuid.uuid4(), role="STUDENT")
    queries = uncached(corpus.provider)
    timings = []
    for scope in ("one course", "across courses"):
        rng = random.Random(len(corpus.lessons))
        asked = []
        for _ in range(searches + 20):
            course, seed = rng.choice(corpus.lessons)
            asked.append(
                (question(lesson_markdown(corpus.words, course, seed), rng),
                 corpus.course_ids[course] if scope == "one course" else None)
            )  # fmt: skip
        durations: list[float] = []
        earlier: list[float] = []
        for i, (query, course_id) in enumerate(asked):
            if before and i % 2:
                earlier_ms = await _search_before(corpus, queries, student, query, course_id)
            started = time.perf_counter()
            async with transaction(corpus.sessions) as session:
                hits = await search_chunks(
                    session, queries=queries, actor=student, query=query, course_id=course_id,
                    limit=10,
                )  # fmt: skip
            elapsed_ms = (time.perf_counter() - started) * 1000
            if before and not i % 2:
                earlier_ms = await _search_before(corpus, queries, student, query, course_id)
            if i >= 20:  # warm-up
                durations.append(elapsed_ms)
                if before:
                    earlier.append(earlier_ms)
            visible = await _courses_of(corpus, [hit.lesson_id for hit in hits])
            assert corpus.draft_id not in visible, "search showed a draft course's lesson"
        query, course_id = asked[-1]
        async with transaction(corpus.sessions) as session:
            await session.execute(PLANNER_SETTINGS)
            rows = await session.execute(
                text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + SEARCH.text),
                await _params(corpus.provider, student, query, course_id),
            )
            plan = "\n".join(row[0] for row in rows)
        durations.sort()
        earlier.sort()
        timings.append(
            Timing(
                lessons=len(corpus.lessons),
                chunks=chunks,
                scope=scope,
                p50=percentile(durations, 50),
                p99=percentile(durations, 99),
                plan=plan,
                recount_s=recount_s,
                before=(percentile(earlier, 50), percentile(earlier, 99)) if before else None,
            )
        )
    return timings


async def _search_before(
    corpus: Corpus, queries: QueryEmbeddings, actor: Actor, query: str, course: uuid.UUID | None
) -> float:
    """The statement before 2026-12-08, as `search_chunks` ran it; its milliseconds."""
    started = time.perf_counter()
    vector = await queries.embed(query)
    async with transaction(corpus.sessions) as session:
        await session.execute(PLANNER_SETTINGS)
        await session.execute(
            search_before.SEARCH,
            {
                "q": query, "vector": as_vector(vector), "course_id": course, "limit": 10,
                **visibility_params(access.note_filter(actor)),
            },
        )  # fmt: skip
    return (time.perf_counter() - started) * 1000


async def _courses_of(corpus: Corpus, lesson_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not lesson_ids:
        return set()
    async with corpus.sessions() as session:
        rows = await session.execute(
            text("SELECT DISTINCT course_id FROM lessons WHERE id = ANY(:ids)"),
            {"ids": list(lesson_ids)},
        )
        return {row[0] for row in rows}


async def collect() -> tuple[list[Timing], float]:
    largest = int(os.environ.get("BENCH_SCALE_LESSONS", "4000"))
    searches = int(os.environ.get("BENCH_SCALE_SEARCHES", "200"))
    before = os.environ.get("BENCH_SCALE_BEFORE", "") not in ("", "0")
    sizes = sorted({*(size for size in SIZES if size < largest), largest})
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-ai-notes-scale-"))
    started = time.perf_counter()
    with infrastructure(work, kafka=False) as infra:
        url = migrated_database(infra.postgres, "ai-notes")
        engine = create_engine(url, schema="ai_notes", app_name="bench-ai-notes-scale")
        register_vectors(engine)
        provider = LocalProvider(dimensions=EMBEDDING_DIMENSIONS)
        try:
            sessions = session_factory(engine)
            course_ids = [uuid.uuid4() for _ in range(COURSES)]
            async with transaction(sessions) as session:
                for number, course_id in enumerate(course_ids):
                    await notes_db.record_course_published(
                        session, course_id=course_id, owner_id=uuid.uuid4(),
                        title=f"Course {number}", at=datetime.now(UTC),
                    )  # fmt: skip
            corpus = Corpus(
                sessions, provider, vocabulary(2026), course_ids, uuid.uuid4(),
                infra.postgres.admin_dsn(),
            )  # fmt: skip
            timings = []
            for size in sizes:
                await corpus.grow(size)
                timings += await measure(
                    corpus, searches, infra.postgres.admin_dsn(), before=before
                )
        finally:
            await provider.close()
            await engine.dispose()
    return timings, time.perf_counter() - started


def _scan_lines(plan: str) -> list[str]:
    """The plan's scan nodes, for the summary: which index (or none) each side used."""
    return [
        line.strip()
        for line in plan.splitlines()
        if re.search(r"Scan|Index Searches", line) and "Subquery" not in line
    ]


def report(timings: Sequence[Timing], elapsed: float) -> str:
    largest = max(t.lessons for t in timings)
    across = next(t for t in timings if t.lessons == largest and t.scope == "across courses")
    met = "met" if across.p99 <= TARGET_MS else "MISSED"
    lines = [
        "## ai-notes search as the corpus grows",
        "",
        f"Lessons of about 1,500 words in {COURSES} published courses (and a draft course, "
        "whose lessons no hit may show: none did), ingested by the service's chunker and "
        "the local provider; searches as a student through `search_chunks`, one at a time, "
        f"each a few words of a random lesson; {elapsed:.0f} s in all.",
        "",
        *_table(timings, largest),
        "",
        f"Target: p99 ≤ {TARGET_MS:.0f} ms at {largest:,} lessons across courses: "
        f"{across.p99:.1f} ms ({met}). The search's word counts (term_stats) recounted "
        "from nothing once each corpus was built: "
        + ", ".join(f"{t.recount_s:.1f} s at {t.lessons:,} lessons" for t in timings[::2])
        + ".",
        "",
        f"EXPLAIN ANALYZE of one search at {largest:,} lessons, its scans:",
        "",
    ]
    for t in timings:
        if t.lessons == largest:
            lines += [f"- {t.scope}:", "", "```", *_scan_lines(t.plan), "```", ""]
    return "\n".join(lines)


def _table(timings: Sequence[Timing], largest: int) -> list[str]:
    compared = all(t.before is not None for t in timings)
    rows = [
        "| lessons (chunks) | scope | p50 | p99 | target |"
        + (" before: p50 / p99 |" if compared else ""),
        "|---|---|---|---|---|" + ("---|" if compared else ""),
    ]
    for t in timings:
        target = (
            f"p99 ≤ {TARGET_MS:.0f} ms"
            if t.lessons == largest and t.scope == "across courses"
            else ""
        )
        row = (
            f"| {t.lessons:,} ({t.chunks:,}) | {t.scope} | {t.p50:.1f} ms | {t.p99:.1f} ms"
            f" | {target} |"
        )
        if compared and t.before is not None:
            row += f" {t.before[0]:.1f} / {t.before[1]:.1f} ms |"
        rows.append(row)
    return rows


async def run() -> str:
    timings, elapsed = await collect()
    if os.environ.get("BENCH_SCALE_PLANS"):
        for t in timings:
            print(f"--- {t.lessons} lessons, {t.scope}\n{t.plan}\n")
    return report(timings, elapsed)


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
