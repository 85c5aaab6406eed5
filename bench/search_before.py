"""The search statement as it was before 2026-12-08, frozen: `bench.ai_notes_scale` times
it beside the service's (BENCH_SCALE_BEFORE=1), on the same corpus and questions. It
ranked every visible chunk holding any of the question's words and counted them for
the IDF on every search (bench/HISTORY.md, 2026-12-07 and 2026-12-08)."""

from __future__ import annotations

from sqlalchemy import text

from edvent_ai_notes.db.notes import VISIBLE_LESSON

RRF_K = 60
CANDIDATES = 60

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
