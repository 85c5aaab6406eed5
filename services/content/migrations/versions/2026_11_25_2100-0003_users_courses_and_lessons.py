"""users reference table, courses and lessons

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Plain SQL, frozen: later changes come as new migrations.
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
        CREATE TABLE {schema}.users (
            id uuid NOT NULL,
            role text NOT NULL,
            email text,
            full_name text,
            role_changed_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_users PRIMARY KEY (id)
        )
        """,
        f"""
        CREATE TABLE {schema}.courses (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            title text NOT NULL,
            description text NOT NULL DEFAULT '',
            is_published boolean NOT NULL DEFAULT false,
            published_at timestamptz,
            owner_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_courses PRIMARY KEY (id),
            CONSTRAINT fk_courses_owner_id_users FOREIGN KEY (owner_id)
                REFERENCES {schema}.users (id) ON DELETE RESTRICT,
            CONSTRAINT ck_courses_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
            CONSTRAINT ck_courses_description_length CHECK (char_length(description) <= 10000),
            CONSTRAINT ck_courses_published_has_time
                CHECK (is_published = (published_at IS NOT NULL))
        )
        """,
        f"CREATE INDEX ix_courses_is_published ON {schema}.courses (is_published)",
        f"CREATE INDEX ix_courses_owner_id ON {schema}.courses (owner_id)",
        f"CREATE INDEX ix_courses_created_at_id ON {schema}.courses (created_at, id)",
        f"""
        CREATE TABLE {schema}.lessons (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            course_id uuid NOT NULL,
            title text NOT NULL,
            order_index integer NOT NULL,
            content_url text NOT NULL,
            content_sha256 text NOT NULL,
            content_bytes integer NOT NULL,
            published_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_lessons PRIMARY KEY (id),
            CONSTRAINT fk_lessons_course_id_courses FOREIGN KEY (course_id)
                REFERENCES {schema}.courses (id) ON DELETE CASCADE,
            CONSTRAINT uq_lessons_course_id_order_index UNIQUE (course_id, order_index),
            CONSTRAINT ck_lessons_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
            CONSTRAINT ck_lessons_order_index_not_negative CHECK (order_index >= 0),
            CONSTRAINT ck_lessons_content_url_not_empty CHECK (char_length(content_url) > 0),
            CONSTRAINT ck_lessons_content_sha256_hex CHECK (content_sha256 ~ '^[0-9a-f]{{64}}$'),
            CONSTRAINT ck_lessons_content_bytes_positive CHECK (content_bytes > 0)
        )
        """,
        f"CREATE INDEX ix_lessons_course_id ON {schema}.lessons (course_id)",
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE IF EXISTS {schema}.lessons")
    op.execute(f"DROP TABLE IF EXISTS {schema}.courses")
    op.execute(f"DROP TABLE IF EXISTS {schema}.users")
