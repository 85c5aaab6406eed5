"""Helpers for benchmarks and tests: a lesson's chunks stored without S3, Kafka or
generation. The service never imports this module at run time.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.usecases.notes import PipelineOptions, embedded_chunks


async def ingest_lesson(
    session: AsyncSession,
    *,
    provider: NotesProvider,
    lesson: LessonRef,
    markdown: str,
    options: PipelineOptions | None = None,
) -> int:
    """Chunk, embed and store one lesson body in the caller's transaction; the number
    of chunks. Embedding runs before the first statement, so before the transaction."""
    chunks, vectors = await embedded_chunks(
        provider=provider, markdown=markdown, options=options or PipelineOptions()
    )
    await notes_db.record_lesson(session, lesson=lesson)
    await notes_db.replace_chunks(
        session,
        lesson_id=lesson.lesson_id,
        course_id=lesson.course_id,
        chunks=chunks,
        vectors=vectors,
    )
    return len(chunks)
