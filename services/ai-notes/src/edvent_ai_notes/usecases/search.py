"""Hybrid search over lesson chunks: pgvector cosine similarity and PostgreSQL full-text
rank, combined by reciprocal rank fusion (RRF); one hit per lesson, its best chunk."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.adapters.providers import NotesProvider
from edvent_ai_notes.db.notes import VISIBLE_LESSON, visibility_params
from edvent_ai_notes.db.term_stats import CATALOGUE
from edvent_ai_notes.db.vectors import as_vector
from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.limits import Limiter, QueryEmbeddings

# RRF's usual constant: a hit's fused score is Σ 1 / (K + its rank in each list).
RRF_K = 60
# How deep each ranking goes before fusion.
CANDIDATES = 60
# The most public chunks the words that pull full-text candidates in may hold together
# (see SEARCH): at 4,000 lessons, 1,000 to 2,000 kept p99 well under 100 ms, and 1,500
# gave the same first hit as ranking every match for 111 of 120 questions
# (bench/HISTORY.md 2026-12-08).
LEXICAL_BUDGET = 1500


@dataclass(frozen=True, slots=True)
class SearchHit:
    lesson_id: UUID
    heading_path: tuple[str, ...]
    snippet: str
    score: float


# The full-text side is BM25-like: a chunk's score sums, over the question's words it
# holds, ts_rank (how often the word occurs, headings weighing more) times the word's
# IDF, so a rare word counts more than one found everywhere; PostgreSQL's rankings know
# no IDF. Stems come from the 'english' configuration and are looked up under 'simple',
# which does not stem them twice. Not ts_rank_cd: cover density, made for words found
# near each other, ranked the full-text side 8 points lower at recall@1 on the SQuAD
# course (bench/ai_notes_quality.py; before/after in bench/HISTORY.md).
#
# Work bounded by the public catalogue: ranking every chunk that holds any of
# the words (~4 µs each) grew with the catalogue, since a common word is in a share of
# all chunks (20,795 for one question at 4,000 lessons; bench/HISTORY.md 2026-12-08).
# So only the rarest words pull candidates in through the GIN index, rarest first while
# their public chunks in the whole catalogue (a GIN bitmap reads a word's whole posting
# list, whatever the course) add up to at most LEXICAL_BUDGET. Every word still adds to
# the score of the candidates holding it, and the nearest chunks are candidates too: a
# question of common words only is ranked by its words among those (an AND of common
# words would still read their whole posting lists). The counts come from term_stats,
# recounted by a job (jobs.py) after lessons, courses or chunks change, since counting
# per question reads the posting lists again. A word not counted yet (new since the
# last recount) counts as found nowhere: rare, so it pulls candidates in.
#
# Access: `visible` is the set of lessons in scope the caller may see (CONTRACT.md "Who
# may see what"), computed once; every chunk read below is filtered by it, before any
# LIMIT. The filter is written `(... IN visible) IS TRUE` so the planner keeps it as a
# hashed lookup on each chunk an index hands over instead of turning it into a join
# that starts from the lessons (a scan of every visible chunk). term_stats counts the
# chunks of public lessons only (published, in a published course), whoever asks, so
# a hidden lesson's words never shift a score nor decide which words pull candidates
# in. The one lag: after a lesson is hidden its words still count, as they did while
# it was public, until the next recount (its interval and jitter, and the recount's
# own time; longer while the job fails); a lesson never public never counts. The
# budget bounds public chunks only: a word found only in hidden lessons counts as
# found nowhere, so it pulls in its hidden matches, which the access filter then drops
# (for an owner or ADMIN, the ones they may see stay).
# The IDF is the course's within a course (a word everywhere in a course tells its
# lessons apart no better than "the"; the catalogue's counts cost 8 of 100 lessons
# asked about within a course, bench/HISTORY.md), the catalogue's across courses and
# for a course with no public chunks.
#
# The nearest chunks across courses come from the HNSW index, which with iterative_scan
# keeps searching until enough chunks pass the filter; within a course the planner may
# rank the course's chunks exactly (their number is the course's, not the catalogue's).
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
    WITH scope AS (
        -- the course's counts when it has public chunks, else the catalogue's
        SELECT coalesce(
            (SELECT scope FROM term_stats_totals WHERE scope = CAST(:course_id AS uuid)),
            CAST(:catalogue AS uuid)
        ) AS id
    ),
    words AS MATERIALIZED (
        SELECT to_tsquery('simple', quote_literal(w.word)) AS q,
               quote_literal(w.word) AS literal,
               coalesce(here.chunks, 0) AS found,
               sum(coalesce(anywhere.chunks, 0))
                   OVER (ORDER BY coalesce(anywhere.chunks, 0), w.word) AS found_so_far
        FROM unnest(tsvector_to_array(to_tsvector('english', :q))) AS w(word)
        CROSS JOIN scope
        LEFT JOIN term_stats anywhere
            ON anywhere.scope = CAST(:catalogue AS uuid) AND anywhere.word = w.word
        LEFT JOIN term_stats here ON here.scope = scope.id AND here.word = w.word
    ),
    query AS (
        SELECT to_tsquery('simple', coalesce(string_agg(literal, ' | '), '')) AS q FROM words
    ),
    weighted AS MATERIALIZED (
        SELECT words.q,
               ln(1 + (greatest(total.n - words.found, 0) + 0.5) / (words.found + 0.5)) AS idf
        FROM words, (
            SELECT coalesce(max(t.chunks), 0) AS n
            FROM term_stats_totals t JOIN scope ON t.scope = scope.id
        ) total
    ),
    -- null when even the rarest word is over the budget: then no GIN scan at all
    rare AS (
        SELECT to_tsquery('simple', string_agg(literal, ' | ')) AS q
        FROM words WHERE found_so_far <= :budget
    ),
    visible AS MATERIALIZED ({VISIBLE}),
    semantic AS MATERIALIZED (
        SELECT id, search_vector, row_number() OVER (ORDER BY distance) AS rank
        FROM (
            SELECT c.id, c.search_vector, c.embedding <=> CAST(:vector AS vector) AS distance
            FROM lesson_chunks c
            WHERE {IN_SCOPE}
            ORDER BY distance
            LIMIT {CANDIDATES}
        ) nearest
    ),
    -- each with its vector, from the scan that found it (fetching ~1,300 again by id
    -- cost ~7 ms at 4,000 lessons)
    candidates AS (
        SELECT DISTINCT ON (id) id, search_vector FROM (
            SELECT c.id, c.search_vector FROM lesson_chunks c, rare
            WHERE c.search_vector @@ rare.q AND {IN_SCOPE}
            UNION ALL
            SELECT id, search_vector FROM semantic
        ) k
    ),
    lexical AS (
        SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS rank
        FROM (
            SELECT c.id, sum(weighted.idf * ts_rank(c.search_vector, weighted.q)) AS rank
            FROM candidates c JOIN weighted ON c.search_vector @@ weighted.q
            GROUP BY c.id
            ORDER BY rank DESC
            LIMIT {CANDIDATES}
        ) matched
    ),
    fused AS (
        SELECT id, sum(1.0 / ({RRF_K} + rank)) AS score
        FROM (SELECT id, rank FROM semantic UNION ALL SELECT id, rank FROM lexical) ranks
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
    budget: int = LEXICAL_BUDGET,
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
            "budget": budget,
            "catalogue": CATALOGUE,
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
