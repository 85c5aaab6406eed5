"""drop two indexes no query needs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

`ix_lessons_course_id` repeats the leading column of the unique (course_id,
order_index) index, which serves every lookup by course. `ix_courses_is_published`
indexes a boolean: the catalogue pages along `ix_courses_created_at_id` and filters
as it goes. Both only cost each write.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP INDEX IF EXISTS {schema}.ix_lessons_course_id")
    op.execute(f"DROP INDEX IF EXISTS {schema}.ix_courses_is_published")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"CREATE INDEX ix_courses_is_published ON {schema}.courses (is_published)")
    op.execute(f"CREATE INDEX ix_lessons_course_id ON {schema}.lessons (course_id)")
