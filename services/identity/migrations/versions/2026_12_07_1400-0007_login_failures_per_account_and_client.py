"""login failures count per account and client address too

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Scope 'account_client' (subject: "<email> <client address>"): five failures from one
client lock that client out of that account, not the account's owner elsewhere.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known
                CHECK (scope IN ('email', 'client', 'register', 'reset_email', 'reset_client',
                               'account_client'))
        """
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DELETE FROM {schema}.login_failures WHERE scope = 'account_client'")
    op.execute(
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known
                CHECK (scope IN ('email', 'client', 'register', 'reset_email', 'reset_client'))
        """
    )
