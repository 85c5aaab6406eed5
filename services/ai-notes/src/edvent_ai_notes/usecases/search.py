"""Hybrid search over lesson chunks: pgvector cosine similarity and PostgreSQL full-text
rank, combined by reciprocal rank fusion (RRF); one hit per lesson, its best chunk."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.db.notes import VISIBLE_LESSON, visibility_params
from edvent_ai_notes.db.vectors import as_vector
from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.limits import Limiter, QueryEmbeddings

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


# The full-text side is BM25-like: it matches any of the question's words (OR; a
# question rarely repeats all of a lesson's words) and sums, per word, ts_rank (how
# often it occurs, headings weighing more) times its IDF among the chunks searched, so
# a rare word counts more than one found everywhere; PostgreSQL's rankings know no IDF.
# Stems come from the 'english' configuration and are looked up under 'simple', which
# does not stem them twice. Not ts_rank_cd: cover density, made for words found near
# each other, ranked the full-text side 8 points lower at recall@1 on the SQuAD course
# (bench/ai_notes_quality.py; before/after in bench/HISTORY.md).
#
# Access: `visible` is the set of lessons in scope the caller may see (CONTRACT.md "Who
# may see what"), computed once; every chunk read below is filtered by it, before any
# LIMIT and in the IDF counts (a hidden lesson's words must not even shift the scores).
# The filter is written `(... IN visible) IS TRUE` so the planner keeps it as a hashed
# lookup on each chunk an index hands over instead of turning it into a join that
# starts from the lessons: that join read and ranked every visible chunk (a sequential
# scan growing with the catalogue, bench/ai_notes_scale.py; bench/HISTORY.md).
#
# The nearest chunks across courses come from the HNSW index, which with iterative_scan
# keeps searching until enough chunks pass the filter; within a course the planner may
# rank the course's chunks exactly (their number is the course's, not the catalogue's).
# The full-text side still reads every visible chunk holding one of the question's
# words (GIN bitmaps), and counts the visible chunks for the IDF: BM25 needs the true
# counts. That part grows with the catalogue; capping the counts was tried and not kept
# (bench/HISTORY.md).
VISIBLE = f"""
    SELECT vl.id FROM lessons vl LEFT JOIN courses vc ON vc.id = vl.course_id
    WHERE (CAST(:course_id AS uuid) IS NULL OR vl.course_id = CAST(:course_id AS uuid))
      AND {VISIBLE_LESSON}
"""
SEEN = "(c.lesson_id IN (SELECT id FROM visible)) IS TRUE"
# The course again on the chunks: within a course the planner may read the course's
# chunks by its index (their number is the course's, not the catalogue's), and the
# full-text bitmaps are the course's matches only.
IN_SCOPE = (
    f"(CAST(:course_id AS uuid) IS NULL OR c.course_id = CAST(:course_id AS uuid)) AND {SEEN}"
)
SEARCH = text(
    f"""
    WITH words AS (
        SELECT to_tsquery('simple', quote_literal(word)) AS q, quote_literal(word) AS literal
        FROM unnest(tsvector_to_array(to_tsvector('english', :q))) AS word
    ),
    query AS (
        SELECT to_tsquery('simple', coalesce(string_agg(literal, ' | '), '')) AS q FROM words
    ),
    visible AS MATERIALIZED ({VISIBLE}),
    semantic AS (
        SELECT id, row_number() OVER (ORDER BY distance) AS rank
        FROM (
            SELECT c.id, c.embedding <=> CAST(:vector AS vector) AS distance
            FROM lesson_chunks c
            WHERE {IN_SCOPE}
            ORDER BY distance
            LIMIT {CANDIDATES}
        ) nearest
    ),
    chunk_count AS MATERIALIZED (
        SELECT count(*) AS n FROM lesson_chunks c WHERE {IN_SCOPE}
    ),
    weighted AS MATERIALIZED (
        SELECT words.q, ln(1 + (chunk_count.n - found.n + 0.5) / (found.n + 0.5)) AS idf
        FROM words, chunk_count, LATERAL (
            SELECT count(*) AS n FROM lesson_chunks c
            WHERE c.search_vector @@ words.q AND {IN_SCOPE}
        ) found
    ),
    lexical AS (
        SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS rank
        FROM (
            SELECT c.id, sum(weighted.idf * ts_rank(c.search_vector, weighted.q)) AS rank
            FROM lesson_chunks c JOIN weighted ON c.search_vector @@ weighted.q
            WHERE {IN_SCOPE}
            GROUP BY c.id
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


# For this transaction only, in one round trip (`set_config(..., true)` is SET LOCAL).
# iterative_scan: HNSW keeps searching while the access filter drops chunks. No
# sequential scans: pgvector prices `<=>` like any operator, not the vector it reads from
# TOAST for each row, so below some thousands of chunks the planner ranked every visible
# chunk by exact distance instead of asking the index. ef_search 400: the local
# provider's sparse hashed vectors need a wide search to rank as exact distances do.
# The figures behind both are in bench/HISTORY.md (search as the corpus grows).
PLANNER_SETTINGS = text(
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
    " set_config('enable_seqscan', 'off', true),"
    " set_config('hnsw.ef_search', '400', true)"
)


async def search_chunks(
    session: AsyncSession,
    *,
    queries: QueryEmbeddings,
    actor: Actor,
    query: str,
    course_id: UUID | None,
    limit: int,
) -> list[SearchHit]:
    """The lessons the caller may see best matching `query`, best first. The query is
    embedded (search's own lane, cached) before the first statement, so no transaction
    waits on the provider."""
    vector = await queries.embed(query)
    await session.execute(PLANNER_SETTINGS)
    rows = await session.execute(
        SEARCH,
        {
            "q": query,
            "vector": as_vector(vector),
            "course_id": course_id,
            "limit": limit,
            **visibility_params(access.note_filter(actor)),
        },
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


def uncached(provider: NotesProvider, *, slots: int = 4) -> QueryEmbeddings:
    """Questions embedded straight through `provider`, no cache: for benchmarks and
    tests that measure the search itself."""
    return QueryEmbeddings(
        provider=provider,
        limiter=Limiter(name="search", slots=slots),
        cache_size=0,
        ttl_seconds=1,
    )
