"""a student's attempts, newest first: index (user_id, started_at, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Plain SQL, frozen. GET /api/v1/attempts pages a student's attempts by
(started_at, id) descending; the old index on user_id alone could find them but not
in that order.
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
        f"CREATE INDEX ix_exam_attempts_user_id_started_at"
        f" ON {schema}.exam_attempts (user_id, started_at, id)"
    )
    op.execute(f"DROP INDEX {schema}.ix_exam_attempts_user_id")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"CREATE INDEX ix_exam_attempts_user_id ON {schema}.exam_attempts (user_id)")
    op.execute(f"DROP INDEX {schema}.ix_exam_attempts_user_id_started_at")
