"""parked outbox rows and recorded dead letters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

An operator can park an outbox row the broker keeps refusing (it stays, visible, but
no longer holds the stream up), and the consumer records each message it
dead-lettered, so a message fetched again after a rebalance is not dead-lettered twice.
The events library's step 2 (`edvent_events.ddl`, frozen there).
"""

from collections.abc import Sequence

from alembic import op

from edvent_events import ddl

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in ddl.upgrade(2, op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    for statement in ddl.downgrade(2, op.get_context().version_table_schema):
        op.execute(statement)
