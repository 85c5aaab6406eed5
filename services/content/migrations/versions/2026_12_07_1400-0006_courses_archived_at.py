"""courses: archived_at, set once by archiving

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Plain SQL, frozen. An archived course is hidden from everyone but its owner and ADMIN
whatever `is_published` says; archiving is final (no unarchive), so the column is
only ever set. Writes to `courses` already bump the catalogue version (0004), so the
anonymous catalogue's cache drops an archived course at once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"ALTER TABLE {schema}.courses ADD COLUMN archived_at timestamptz")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"ALTER TABLE {schema}.courses DROP COLUMN archived_at")
