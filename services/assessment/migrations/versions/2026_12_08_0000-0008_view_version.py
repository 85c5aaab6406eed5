"""view version: a counter every write to courses, exams and questions bumps

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

A student's exam list is answered from memory (`edvent_platform.view_cache`) while
this counter stands still. Attempts and analytics are not watched: the exam rush
writes only those, and would otherwise take turns on the counter's row.
"""

from collections.abc import Sequence

from alembic import op

from edvent_platform import view_cache

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("courses", "exams", "questions")


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in view_cache.create_version_table(schema, watched=WATCHED):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in view_cache.drop_version_table(schema, watched=WATCHED):
        op.execute(statement)
