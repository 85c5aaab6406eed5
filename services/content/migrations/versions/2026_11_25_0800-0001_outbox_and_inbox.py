"""outbox and inbox for events

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from edvent_events.outbox import create_outbox_and_inbox_sql, drop_outbox_and_inbox_sql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in create_outbox_and_inbox_sql(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_and_inbox_sql(op.get_context().version_table_schema):
        op.execute(statement)
