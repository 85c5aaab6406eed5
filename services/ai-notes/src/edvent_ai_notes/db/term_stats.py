"""term_stats: how many public chunks hold each word, per course and in the whole
catalogue (the search's IDF and its choice of the words that pull candidates in).
Callers own the transaction."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.db.notes import VISIBLE_LESSON, visibility_params
from edvent_ai_notes.domain.access import NoteFilter

# The scope of the whole catalogue's counts; a course's counts are under its id.
CATALOGUE = UUID(int=0)

# Public: what a student may see (the rule without an owner or ADMIN), so words of a
# draft or hidden lesson never weigh in anyone's search. The course is the lesson's.
PUBLIC_CHUNKS = f"""
    SELECT vl.course_id, c.search_vector FROM lesson_chunks c
    JOIN lessons vl ON vl.id = c.lesson_id LEFT JOIN courses vc ON vc.id = vl.course_id
    WHERE {VISIBLE_LESSON}
"""

# MERGE rewrites only the counts that changed, so a recount leaves most rows (and the
# table's size) as they were.
RECOUNT_WORDS = text(
    f"""
    MERGE INTO term_stats t
    USING (
        SELECT coalesce(p.course_id, CAST(:catalogue AS uuid)) AS scope, word,
               count(*)::integer AS chunks
        FROM ({PUBLIC_CHUNKS}) p, unnest(tsvector_to_array(p.search_vector)) AS word
        GROUP BY GROUPING SETS ((word), (p.course_id, word))
    ) fresh ON t.scope = fresh.scope AND t.word = fresh.word
    WHEN MATCHED AND t.chunks <> fresh.chunks THEN UPDATE SET chunks = fresh.chunks
    WHEN NOT MATCHED BY TARGET THEN
        INSERT (scope, word, chunks) VALUES (fresh.scope, fresh.word, fresh.chunks)
    WHEN NOT MATCHED BY SOURCE THEN DELETE
    """
)
RECOUNT_TOTALS = text(
    f"""
    MERGE INTO term_stats_totals t
    USING (
        SELECT coalesce(p.course_id, CAST(:catalogue AS uuid)) AS scope,
               count(*)::integer AS chunks
        FROM ({PUBLIC_CHUNKS}) p
        GROUP BY GROUPING SETS ((), (p.course_id))
    ) fresh ON t.scope = fresh.scope
    WHEN MATCHED THEN UPDATE SET chunks = fresh.chunks, refreshed_at = now()
    WHEN NOT MATCHED BY TARGET THEN INSERT (scope, chunks) VALUES (fresh.scope, fresh.chunks)
    WHEN NOT MATCHED BY SOURCE THEN DELETE
    """
)


async def refresh(session: AsyncSession) -> bool:
    """Recount if lessons, courses or chunks changed since the last recount (or there
    never was one); whether it recounted. Only the changes this transaction sees are
    removed, and the recount reads a snapshot no older: a change committed meanwhile
    stays for the next run."""
    # One recount at a time, whoever calls: two would insert the same new words.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('ai_notes.term_stats', 0))")
    )
    seen = (await session.execute(text("DELETE FROM term_stats_changes RETURNING id"))).first()
    counted = (
        await session.execute(
            text("SELECT 1 FROM term_stats_totals WHERE scope = :catalogue"),
            {"catalogue": CATALOGUE},
        )
    ).first()
    if seen is None and counted is not None:
        return False
    params = {"catalogue": CATALOGUE, **visibility_params(NoteFilter())}
    await session.execute(RECOUNT_WORDS, params)
    await session.execute(RECOUNT_TOTALS, params)
    return True
