"""The search's word counts (term_stats): public chunks only, recounted after a change,
and the full-text side pulling candidates in only through rare words."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.notes import LessonRef, visibility_params
from edvent_ai_notes.db.term_stats import CATALOGUE
from edvent_ai_notes.db.vectors import as_vector
from edvent_ai_notes.domain.access import Actor, NoteFilter
from edvent_ai_notes.testing import ingest_lesson
from edvent_ai_notes.usecases.search import (
    LEXICAL_BUDGET,
    PLANNER_SETTINGS,
    SEARCH,
    search_chunks,
    uncached,
)
from edvent_localstack.pytest_plugin import eventually
from edvent_platform.db import transaction

pytestmark = pytest.mark.integration

STUDENT = Actor(user_id=uuid.uuid4(), role="STUDENT")


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
    # The app's own job (every 0.2 s here) may recount first: the counts below say it
    # happened, whoever did it.
    await recount(app)
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


async def pulled_in(app: Any, *, q: str, budget: int) -> int:
    """Chunks the rare words' query handed to the full-text side in one search across
    courses (EXPLAIN ANALYZE: the rows out of the scan that applies it, whichever)."""
    ai_notes = app.state.ai_notes
    (vector,) = await ai_notes.provider.embed([q])
    async with transaction(ai_notes.sessions) as session:
        await session.execute(PLANNER_SETTINGS)
        plan = await session.scalar(
            text("EXPLAIN (ANALYZE, FORMAT JSON) " + SEARCH.text),
            {
                "q": q, "vector": as_vector(vector), "course_id": None, "limit": 10,
                "budget": budget, "catalogue": CATALOGUE, **visibility_params(NoteFilter()),
            },
        )  # fmt: skip
    nodes = [(json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]]
    rows = 0
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        conditions = " ".join(node.get(k, "") for k in ("Recheck Cond", "Index Cond", "Filter"))
        if "string_agg(words" in conditions and node["Node Type"] != "Bitmap Index Scan":
            rows += node["Actual Rows"] * node["Actual Loops"]
    return int(rows)


async def test_a_common_word_pulls_no_chunks_in_yet_a_question_of_it_is_answered(app):
    public = await course(app)
    for n in range(6):
        await lesson(app, course_id=public, body=f"# Reactors\n\nThe reactor {n} runs hot.")
    await lesson(app, course_id=public, body="# Zirconium\n\nZirconium cladding in a reactor.")
    await recount(app)
    # 'zirconium' is in 1 chunk, 'reactor' in 7: within a budget of 1 only the rare word
    # pulls chunks in; with room for both, every chunk holding either does.
    assert await pulled_in(app, q="reactor zirconium", budget=1) == 1
    assert await pulled_in(app, q="reactor zirconium", budget=100) == 7
    assert await pulled_in(app, q="reactor", budget=1) == 0
    # A question of common words only is still answered, from the nearest chunks.
    assert await scores(app, q="reactor", course_id=public, budget=1)


async def scores(
    app: Any, *, q: str, course_id: UUID | None, budget: int = LEXICAL_BUDGET
) -> dict[UUID, float]:
    ai_notes = app.state.ai_notes
    async with transaction(ai_notes.sessions) as session:
        hits = await search_chunks(
            session, queries=uncached(ai_notes.provider), actor=STUDENT, query=q,
            course_id=course_id, limit=10, budget=budget,
        )  # fmt: skip
    return {hit.lesson_id: hit.score for hit in hits}


async def test_a_hidden_lessons_words_never_shift_a_students_scores(app):
    public, draft = await course(app), await course(app, published=False)
    await lesson(app, course_id=public, body="# Metals\n\nTungsten, tungsten glows.")
    await lesson(app, course_id=public, body="# Lamps\n\nA filament glows.")
    await recount(app)
    before = await scores(app, q="tungsten filament", course_id=None)
    assert len(before) == 2

    # Counted, these would make 'tungsten' common and put 'filament' first in the
    # full-text ranking (the scores are ranks fused: they would change).
    for _ in range(10):
        await lesson(app, course_id=draft, body="# Tungsten\n\nTungsten.")
    await recount(app)
    assert await scores(app, q="tungsten filament", course_id=None) == before
