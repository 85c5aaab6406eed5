"""courses' publication, archive and owner history; lessons unpublished; lesson
tombstones; the users reference table

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Plain SQL, frozen. What ai-notes needs to apply CONTRACT.md "Who may see what" from
content's and identity's events. Each state change keeps the time it happened, so an
event that arrives late never undoes a newer one. A course that ai-notes has not seen
publish counts as a draft: courses recorded before this migration stay drafts until
content's next `course.published` for them (the stricter reading).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        # owner_id is null for a course known only from an unpublish or archive event.
        f"""
        ALTER TABLE {schema}.courses
            ALTER COLUMN owner_id DROP NOT NULL,
            ADD COLUMN owner_changed_at timestamptz,
            ADD COLUMN published_at timestamptz,
            ADD COLUMN unpublished_at timestamptz,
            ADD COLUMN archived_at timestamptz
        """,
        f"ALTER TABLE {schema}.lessons ADD COLUMN unpublished_at timestamptz",
        f"""
        CREATE TABLE {schema}.lesson_tombstones (
            lesson_id uuid NOT NULL,
            course_id uuid NOT NULL,
            deleted_at timestamptz NOT NULL,
            CONSTRAINT pk_lesson_tombstones PRIMARY KEY (lesson_id)
        )
        """,
        # identity's users as far as access needs them: the role that counts now, the
        # session cut-off and the erasure mark. email and full_name stay empty (the
        # shared reference-users code knows the columns; ai-notes never reads them).
        f"""
        CREATE TABLE {schema}.users (
            id uuid NOT NULL,
            role text NOT NULL,
            email text,
            full_name text,
            role_changed_at timestamptz,
            not_before timestamptz,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_users PRIMARY KEY (id)
        )
        """,
        f"CREATE INDEX ix_courses_owner_id ON {schema}.courses (owner_id)",
    ]


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in _statements(schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP INDEX {schema}.ix_courses_owner_id")
    op.execute(f"DROP TABLE {schema}.users")
    op.execute(f"DROP TABLE {schema}.lesson_tombstones")
    op.execute(f"ALTER TABLE {schema}.lessons DROP COLUMN unpublished_at")
    op.execute(f"DELETE FROM {schema}.courses WHERE owner_id IS NULL")
    op.execute(
        f"""
        ALTER TABLE {schema}.courses
            DROP COLUMN archived_at,
            DROP COLUMN unpublished_at,
            DROP COLUMN published_at,
            DROP COLUMN owner_changed_at,
            ALTER COLUMN owner_id SET NOT NULL
        """
    )
