"""outbox and inbox for events

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The events library's step 1 (`edvent_events.ddl`, frozen there): the same DDL in every
service. Later changes to these tables come as new steps and new migrations.
"""

from collections.abc import Sequence

from alembic import op

from edvent_events import ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in ddl.upgrade(1, op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    for statement in ddl.downgrade(1, op.get_context().version_table_schema):
        op.execute(statement)
