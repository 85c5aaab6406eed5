"""Benchmark of the ai-notes pipeline and search: `uv run python -m bench.ai_notes`.

Real PostgreSQL (pgvector), Kafka and S3 (S3Proxy); the ai-notes app runs in this
process with its lifespan (relay and consumer) and the configured provider (`local`
without OPENAI_API_KEY):

1. `lesson.published` → note `ready`: BENCH_NOTES_LESSONS (default 20) lessons of
   about 5,000 words each, published one after another; for each, the time from
   sending the event to Kafka until its note reads `ready` in the database (polled
   every 10 ms). p50 / p95; the target is p95 ≤ 3 s.
2. Search: lessons ingested until the course holds at least 1,000 chunks, then
   BENCH_SEARCHES (default 300) hybrid searches (`search_chunks`: the query's
   embedding, then one SQL statement) filtered by course, one at a time. p50 / p99.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from bench import percentile
from bench.stack import BUCKET, infrastructure, migrated_database
from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.config import Settings
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.main import create_app
from edvent_ai_notes.testing import ingest_lesson
from edvent_ai_notes.usecases.search import search_chunks, uncached
from edvent_events.admin import ensure_topics
from edvent_events.catalog.content import LessonPublished
from edvent_events.connection import KafkaConnection
from edvent_events.envelope import encode
from edvent_events.topics import CONTENT_COURSES, CONTENT_LESSONS
from edvent_localstack.s3 import S3Server
from edvent_platform.db import transaction

TOPICS = (
    "heat", "entropy", "force", "mass", "light", "lens", "current", "voltage", "magnet",
    "field", "sound", "wave", "orbit", "gravity", "nucleus", "isotope", "fluid", "pressure",
    "photon", "electron", "clock", "velocity", "energy", "momentum",
)  # fmt: skip
VERBS = ("changes", "depends on", "measures", "explains", "limits", "carries", "balances")
FRAMES = (
    "In this part we see how the {a} {v} the {b}, and why engineers care about it.",
    "A simple experiment shows that the {a} {v} the {b} when nothing else changes.",
    "Students often confuse the {a} with the {b}; the difference is that one {v} the other.",
    "The {a} of a system {v} its {b}, which is easy to check with a ruler and a timer.",
    "Historically, the study of the {a} led to new ideas about the {b}.",
)


def lesson_body(seed: int, *, words: int = 5000) -> str:
    """A Markdown lesson of about `words` words: sections, paragraphs, a list, code."""
    rng = random.Random(seed)
    parts = [f"# Lesson {seed}\n"]
    count = 0
    section = 0
    while count < words:
        section += 1
        parts.append(f"\n## {rng.choice(TOPICS).title()} and {rng.choice(TOPICS)} {section}\n")
        for _ in range(rng.randint(3, 5)):
            sentences = [
                rng.choice(FRAMES).format(
                    a=rng.choice(TOPICS), b=rng.choice(TOPICS), v=rng.choice(VERBS)
                )
                for _ in range(rng.randint(4, 7))
            ]
            paragraph = " ".join(sentences)
            count += len(paragraph.split())
            parts.append(f"\n{paragraph}\n")
        if section % 3 == 0:
            parts.append("\n- first point\n- second point\n- third point\n")
            parts.append("\n```python\nenergy = mass * speed ** 2 / 2\n```\n")
    return "".join(parts)


async def _ready_at(sessions: Any, lesson_id: uuid.UUID, timeout: float = 120) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        async with sessions() as session:
            status = await session.scalar(
                text("SELECT status FROM ai_notes WHERE lesson_id = :id"), {"id": lesson_id}
            )
        if status == "ready":
            return time.perf_counter()
        if status == "failed":
            raise RuntimeError(f"notes for {lesson_id} failed")
        await asyncio.sleep(0.01)
    raise TimeoutError(f"notes for {lesson_id} not ready within {timeout}s")


async def measure(
    *,
    settings: Settings,
    s3: S3Server,
    provider: NotesProvider | None,
    content_kafka: KafkaConnection,
) -> tuple[list[float], list[float], int, str]:
    lessons = int(os.environ.get("BENCH_NOTES_LESSONS", "20"))
    searches = int(os.environ.get("BENCH_SEARCHES", "300"))
    client = s3.client()
    app = create_app(settings, provider=provider)
    ai_notes = app.state.ai_notes
    sessions = ai_notes.sessions
    course_id = uuid.uuid4()
    latencies: list[float] = []
    # content's events, written with content's own principal.
    producer = AIOKafkaProducer(**content_kafka.client_kwargs(), acks="all")
    async with app.router.lifespan_context(app):
        await producer.start()
        try:
            for index in range(lessons + 1):  # the first one warms up (group join, caches)
                body = lesson_body(index).encode()
                sha = hashlib.sha256(body).hexdigest()
                lesson_id = uuid.uuid4()
                # Where content stores bodies: ai-notes refuses a key outside it.
                key = f"courses/{course_id}/lessons/{lesson_id}/{sha}.md"
                client.put_object(Bucket=BUCKET, Key=key, Body=body)
                event = LessonPublished(
                    lesson_id=lesson_id, course_id=course_id, title=f"Lesson {index}",
                    order_index=index, content_key=key, content_sha256=sha,
                    published_at=datetime.now(UTC),
                )  # fmt: skip
                message = encode(event)
                sent = time.perf_counter()
                await producer.send_and_wait(
                    message.topic, value=message.value, key=message.key, headers=message.headers
                )
                done = await _ready_at(sessions, event.lesson_id)
                if index:
                    latencies.append(done - sent)
        finally:
            await producer.stop()
        async with sessions() as session:
            chunks = int(await session.scalar(text("SELECT count(*) FROM lesson_chunks")) or 0)
        seed = 1000
        while chunks < 1000:
            seed += 1
            lesson = LessonRef(
                lesson_id=uuid.uuid4(), course_id=course_id, title=f"Extra {seed}",
                order_index=seed, content_key="-", content_sha256="0" * 64,
                published_at=datetime.now(UTC),
            )  # fmt: skip
            async with transaction(sessions) as session:
                chunks += await ingest_lesson(
                    session, provider=ai_notes.provider, lesson=lesson, markdown=lesson_body(seed)
                )
        # Searched as a student: the course is published, so its lessons are served.
        async with transaction(sessions) as session:
            await notes_db.record_course_published(
                session, course_id=course_id, owner_id=uuid.uuid4(), title="Bench",
                at=datetime.now(UTC),
            )  # fmt: skip
        # The word counts the search reads, as the service's job would recount them.
        await ai_notes.term_stats.run_once()
        student = Actor(user_id=uuid.uuid4(), role="STUDENT")
        queries = uncached(ai_notes.provider)
        rng = random.Random(7)
        timings: list[float] = []
        for i in range(searches + 20):
            query = f"how does the {rng.choice(TOPICS)} change the {rng.choice(TOPICS)}"
            started = time.perf_counter()
            async with transaction(sessions) as session:
                hits = await search_chunks(
                    session, queries=queries, actor=student, query=query, course_id=course_id,
                    limit=10,
                )  # fmt: skip
            if i >= 20:  # warm-up
                timings.append(time.perf_counter() - started)
            assert hits
        name = ai_notes.provider.name
    return sorted(latencies), sorted(timings), chunks, name


async def run(provider: NotesProvider | None = None) -> str:
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-ai-notes-"))
    with infrastructure(work, s3=True) as infra:
        assert infra.kafka is not None and infra.s3 is not None
        s3 = infra.s3
        url = migrated_database(infra.postgres, "ai-notes")
        await ensure_topics(infra.kafka.admin, [CONTENT_LESSONS, CONTENT_COURSES])
        settings = Settings(
            database_url=url,
            **infra.kafka.service_settings("ai-notes"),  # type: ignore[arg-type]
            log_level="WARNING",
            s3_endpoint_url=s3.endpoint_url,
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            s3_region=s3.region,
            s3_bucket=BUCKET,
        )
        latencies, searches, chunks, name = await measure(
            settings=settings,
            s3=s3,
            provider=provider,
            content_kafka=infra.kafka.connection("content"),
        )
    p95 = percentile(latencies, 95)
    search_p50, search_p99 = percentile(searches, 50) * 1000, percentile(searches, 99) * 1000
    return "\n".join(
        [
            "## ai-notes",
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; provider `{name}`, the app in the "
            "benchmark's process.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| lesson.published → note ready, ~5,000-word lesson, p50 / p95 over "
            f"{len(latencies)} | {percentile(latencies, 50):.2f} s / {p95:.2f} s "
            f"(target p95 ≤ 3 s: {'met' if p95 <= 3 else 'MISSED'}) |",
            f"| hybrid search over {chunks} chunks, p50 / p99 over {len(searches)} | "
            f"{search_p50:.1f} ms / {search_p99:.1f} ms |",
            "",
        ]
    )


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
