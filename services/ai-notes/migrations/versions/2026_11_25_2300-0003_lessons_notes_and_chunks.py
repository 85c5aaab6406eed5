"""lessons and courses reference tables, ai_notes, lesson_chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Plain SQL, frozen: later changes come as new migrations. The vector dimension (1536) is
the service's EMBEDDING_DIMENSIONS; changing it takes a new migration and re-embedding.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {schema}.courses (
            id uuid NOT NULL,
            owner_id uuid NOT NULL,
            title text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_courses PRIMARY KEY (id)
        )
        """,
        f"""
        CREATE TABLE {schema}.lessons (
            id uuid NOT NULL,
            course_id uuid NOT NULL,
            title text NOT NULL,
            order_index integer NOT NULL,
            content_key text NOT NULL,
            content_sha256 text NOT NULL,
            published_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_lessons PRIMARY KEY (id)
        )
        """,
        f"CREATE INDEX ix_lessons_course_id ON {schema}.lessons (course_id)",
        f"""
        CREATE TABLE {schema}.ai_notes (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            lesson_id uuid NOT NULL,
            status text NOT NULL,
            failure_reason text,
            summary_markdown text,
            key_concepts jsonb NOT NULL DEFAULT '[]',
            model text,
            content_sha256 text NOT NULL,
            prompt_tokens integer NOT NULL DEFAULT 0,
            completion_tokens integer NOT NULL DEFAULT 0,
            generated_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_ai_notes PRIMARY KEY (id),
            CONSTRAINT uq_ai_notes_lesson_id UNIQUE (lesson_id),
            CONSTRAINT fk_ai_notes_lesson_id_lessons FOREIGN KEY (lesson_id)
                REFERENCES {schema}.lessons (id) ON DELETE CASCADE,
            CONSTRAINT ck_ai_notes_status CHECK (status IN ('pending', 'ready', 'failed')),
            CONSTRAINT ck_ai_notes_ready_has_summary
                CHECK (status <> 'ready' OR (summary_markdown IS NOT NULL
                                             AND generated_at IS NOT NULL)),
            CONSTRAINT ck_ai_notes_key_concepts_array
                CHECK (jsonb_typeof(key_concepts) = 'array')
        )
        """,
        # "Notes mentioning X", case-insensitively: containment on the lower-cased
        # document, e.g. lower(key_concepts::text)::jsonb @> '[{{"name": "entropy"}}]'.
        f"""
        CREATE INDEX ix_ai_notes_key_concepts ON {schema}.ai_notes
            USING gin ((lower(key_concepts::text)::jsonb) jsonb_path_ops)
        """,
        f"""
        CREATE TABLE {schema}.lesson_chunks (
            id bigint GENERATED ALWAYS AS IDENTITY,
            lesson_id uuid NOT NULL,
            course_id uuid NOT NULL,
            position integer NOT NULL,
            heading_path text[] NOT NULL,
            text text NOT NULL,
            embedding extensions.vector(1536) NOT NULL,
            search_vector tsvector NOT NULL,
            CONSTRAINT pk_lesson_chunks PRIMARY KEY (id),
            CONSTRAINT uq_lesson_chunks_lesson_id_position UNIQUE (lesson_id, position),
            CONSTRAINT fk_lesson_chunks_lesson_id_lessons FOREIGN KEY (lesson_id)
                REFERENCES {schema}.lessons (id) ON DELETE CASCADE
        )
        """,
        f"CREATE INDEX ix_lesson_chunks_course_id ON {schema}.lesson_chunks (course_id)",
        f"""
        CREATE INDEX ix_lesson_chunks_embedding ON {schema}.lesson_chunks
            USING hnsw (embedding extensions.vector_cosine_ops)
        """,
        f"""
        CREATE INDEX ix_lesson_chunks_search_vector ON {schema}.lesson_chunks
            USING gin (search_vector)
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE IF EXISTS {schema}.lesson_chunks")
    op.execute(f"DROP TABLE IF EXISTS {schema}.ai_notes")
    op.execute(f"DROP TABLE IF EXISTS {schema}.lessons")
    op.execute(f"DROP TABLE IF EXISTS {schema}.courses")
