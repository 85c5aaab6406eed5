"""users: the session cut-off and the erasure mark, from identity's events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Plain SQL, frozen. `user.sessions_revoked` sets `not_before` (tokens issued before it
no longer count) and `user.deleted` sets `deleted_at` (the row stays as a pseudonym,
so attempts and courses still point at it, with no email or name).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"ALTER TABLE {schema}.users ADD COLUMN not_before timestamptz,"
        " ADD COLUMN deleted_at timestamptz"
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"ALTER TABLE {schema}.users DROP COLUMN deleted_at, DROP COLUMN not_before")
