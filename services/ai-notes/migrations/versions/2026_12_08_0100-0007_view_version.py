"""view version: a counter every write to courses, lessons and notes bumps

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

A student's view of a lesson's notes is answered from memory
(`edvent_platform.view_cache`) while this counter stands still. The chunks, jobs and
budgets are not watched: no cached view is made of them.
"""

from collections.abc import Sequence

from alembic import op

from edvent_platform import view_cache

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("courses", "lessons", "ai_notes")


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in view_cache.create_version_table(schema, watched=WATCHED):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in view_cache.drop_version_table(schema, watched=WATCHED):
        op.execute(statement)
