"""who owns which course, as content's events say (erasure refuses owners)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

A reference table filled from `content.courses` (course.created, course.owner_changed):
an account that still owns a course cannot be erased until an ADMIN moves the course.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"""
        CREATE TABLE {schema}.course_owners (
            course_id uuid NOT NULL,
            owner_id uuid NOT NULL,
            changed_at timestamptz NOT NULL,
            CONSTRAINT pk_course_owners PRIMARY KEY (course_id)
        )
        """
    )
    op.execute(f"CREATE INDEX ix_course_owners_owner_id ON {schema}.course_owners (owner_id)")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE {schema}.course_owners")
