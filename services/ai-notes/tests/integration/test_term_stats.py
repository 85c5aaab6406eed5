"""The search's word counts (term_stats): public chunks only, recounted after a change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.db.term_stats import CATALOGUE
from edvent_ai_notes.testing import ingest_lesson
from edvent_localstack.pytest_plugin import eventually
from edvent_platform.db import transaction

pytestmark = pytest.mark.integration


async def course(app: Any, *, published: bool = True) -> UUID:
    course_id = uuid.uuid4()
    async with transaction(app.state.ai_notes.sessions) as session:
        record = notes_db.record_course_published if published else notes_db.record_course_created
        await record(
            session, course_id=course_id, owner_id=uuid.uuid4(), title="C", at=datetime.now(UTC)
        )
    return course_id


async def lesson(app: Any, *, course_id: UUID, body: str) -> UUID:
    """One lesson of one chunk (short bodies are not split)."""
    lesson_id = uuid.uuid4()
    ai_notes = app.state.ai_notes
    async with transaction(ai_notes.sessions) as session:
        await ingest_lesson(
            session,
            provider=ai_notes.provider,
            lesson=LessonRef(
                lesson_id=lesson_id,
                course_id=course_id,
                title="Lesson",
                order_index=0,
                content_key=f"courses/{course_id}/lessons/{lesson_id}/x.md",
                content_sha256="0" * 64,
                published_at=datetime.now(UTC),
            ),
            markdown=body,
        )
    return lesson_id


async def recount(app: Any) -> bool:
    return bool(await app.state.ai_notes.term_stats.run_once())


def counts(sql: Any, scope: UUID = CATALOGUE) -> tuple[dict[str, int], int | None]:
    """The words counted in `scope` (a course, or the whole catalogue), and its chunks."""
    words = dict(sql("SELECT word, chunks FROM ai_notes.term_stats WHERE scope = %s", (scope,)))
    total = sql("SELECT chunks FROM ai_notes.term_stats_totals WHERE scope = %s", (scope,))
    return words, total[0][0] if total else None


async def test_the_counts_hold_public_chunks_only_and_follow_an_unpublish(app, sql):
    public, draft = await course(app), await course(app, published=False)
    shown = await lesson(app, course_id=public, body="# Xylophones\n\nA xylophone is struck.")
    await lesson(app, course_id=draft, body="# Zeppelins\n\nA zeppelin is unreleased.")
    await recount(app)
    words, total = counts(sql)
    assert words["xylophon"] == 1 and total == 1
    assert "zeppelin" not in words
    assert counts(sql, public) == ({"xylophon": 1, "struck": 1}, 1)
    assert counts(sql, draft) == ({}, None)
    assert not await recount(app), "nothing changed, yet it recounted"

    async with transaction(app.state.ai_notes.sessions) as session:
        await notes_db.record_lesson_unpublished(session, lesson_id=shown, at=datetime.now(UTC))
    assert await recount(app)
    assert counts(sql) == ({}, 0)
    assert counts(sql, public) == ({}, None)


async def test_the_refresh_job_recounts_after_a_change(app, sql):
    """The job on the service's runner, not only the function: every
    `term_stats_refresh_seconds` (0.2 s in these tests)."""
    public = await course(app)
    await lesson(app, course_id=public, body="# Marimbas\n\nA marimba is struck.")

    async def counted() -> bool:
        return "marimba" in counts(sql)[0]

    await eventually(counted)
