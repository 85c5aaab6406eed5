"""Hybrid search over lesson chunks: pgvector cosine similarity and PostgreSQL full-text
rank, combined by reciprocal rank fusion (RRF); one hit per lesson, its best chunk."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.db.tables import vector_literal

# RRF's usual constant: a hit's fused score is Σ 1 / (K + its rank in each list).
RRF_K = 60
# How deep each ranking goes before fusion.
CANDIDATES = 60


@dataclass(frozen=True, slots=True)
class SearchHit:
    lesson_id: UUID
    heading_path: tuple[str, ...]
    snippet: str
    score: float


# The full-text side matches any of the query's words (OR), ranked by ts_rank_cd: a
# question rarely repeats all of a lesson's words. Stems come from the 'english'
# configuration and are OR-ed under 'simple', which does not stem them twice.
# iterative_scan lets HNSW keep searching when the course filter drops candidates.
SEARCH = text(
    f"""
    WITH query AS (
        SELECT to_tsquery('simple', coalesce(string_agg(quote_literal(word), ' | '), '')) AS q
        FROM unnest(tsvector_to_array(to_tsvector('english', :q))) AS word
    ),
    semantic AS (
        SELECT id, row_number() OVER (ORDER BY distance) AS rank
        FROM (
            SELECT id, embedding <=> CAST(:vector AS vector) AS distance
            FROM lesson_chunks
            WHERE CAST(:course_id AS uuid) IS NULL OR course_id = CAST(:course_id AS uuid)
            ORDER BY distance
            LIMIT {CANDIDATES}
        ) nearest
    ),
    lexical AS (
        SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS rank
        FROM (
            SELECT c.id, ts_rank_cd(c.search_vector, query.q) AS rank
            FROM lesson_chunks c, query
            WHERE c.search_vector @@ query.q
              AND (CAST(:course_id AS uuid) IS NULL OR c.course_id = CAST(:course_id AS uuid))
            ORDER BY rank DESC
            LIMIT {CANDIDATES}
        ) matched
    ),
    fused AS (
        SELECT id, sum(1.0 / ({RRF_K} + rank)) AS score
        FROM (SELECT * FROM semantic UNION ALL SELECT * FROM lexical) ranks
        GROUP BY id
    ),
    best AS (
        SELECT DISTINCT ON (c.lesson_id) c.lesson_id, c.heading_path, c.text, f.score
        FROM fused f JOIN lesson_chunks c ON c.id = f.id
        ORDER BY c.lesson_id, f.score DESC
    )
    SELECT best.lesson_id, best.heading_path, best.score,
           ts_headline('english', best.text, query.q,
                       'MaxWords=40, MinWords=15, StartSel="", StopSel="", MaxFragments=1')
               AS fragment
    FROM best, query
    ORDER BY best.score DESC, best.lesson_id
    LIMIT :limit
    """
)


async def search_chunks(
    session: AsyncSession,
    *,
    provider: NotesProvider,
    query: str,
    course_id: UUID | None,
    limit: int,
) -> list[SearchHit]:
    """The lessons best matching `query`, best first. The query is embedded before the
    first statement, so no transaction waits on the provider."""
    [vector] = await provider.embed([query])
    await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    rows = await session.execute(
        SEARCH,
        {"q": query, "vector": vector_literal(vector), "course_id": course_id, "limit": limit},
    )
    return [
        SearchHit(
            lesson_id=row.lesson_id,
            heading_path=tuple(row.heading_path),
            snippet=_snippet(tuple(row.heading_path), row.fragment),
            score=round(float(row.score), 6),
        )
        for row in rows
    ]


def _snippet(path: tuple[str, ...], fragment: str) -> str:
    text_ = " ".join(fragment.split())
    return f"{' > '.join(path)}: {text_}" if path else text_
