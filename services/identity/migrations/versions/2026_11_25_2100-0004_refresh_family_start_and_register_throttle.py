"""refresh-token families remember when they started; registrations are throttled

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

A family (one login and its refreshes) gets an absolute lifetime, counted from
`family_started_at`; `login_failures` also counts registration attempts per client
address (scope 'register').
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"ALTER TABLE {schema}.refresh_tokens ADD COLUMN family_started_at timestamptz",
        # Existing families started no later than their oldest token still kept.
        f"""
        UPDATE {schema}.refresh_tokens AS t SET family_started_at = f.started
        FROM (
            SELECT family_id, min(issued_at) AS started
            FROM {schema}.refresh_tokens GROUP BY family_id
        ) AS f
        WHERE t.family_id = f.family_id
        """,
        f"ALTER TABLE {schema}.refresh_tokens ALTER COLUMN family_started_at SET NOT NULL",
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known
                CHECK (scope IN ('email', 'client', 'register'))
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DELETE FROM {schema}.login_failures WHERE scope = 'register'")
    op.execute(
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known CHECK (scope IN ('email', 'client'))
        """
    )
    op.execute(f"ALTER TABLE {schema}.refresh_tokens DROP COLUMN family_started_at")
