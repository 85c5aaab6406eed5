"""parked outbox rows and recorded dead letters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

An operator can park an outbox row the broker keeps refusing (it stays, visible, but
no longer holds the stream up), and the consumer records each message it
dead-lettered, so a message fetched again after a rebalance is not dead-lettered twice.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"ALTER TABLE {schema}.outbox ADD COLUMN parked_at timestamptz,"
        " ADD COLUMN parked_reason text",
        f"DROP INDEX {schema}.ix_outbox_unsent",
        f"""
        CREATE INDEX ix_outbox_unsent ON {schema}.outbox (id)
            WHERE sent_at IS NULL AND parked_at IS NULL
        """,
        f"""
        CREATE TABLE {schema}.dead_letters (
            topic text NOT NULL,
            partition integer NOT NULL,
            "offset" bigint NOT NULL,
            event_id uuid,
            ce_type text,
            error text NOT NULL,
            attempts integer NOT NULL,
            dead_lettered_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (topic, partition, "offset")
        )
        """,
        f"CREATE INDEX ix_dead_letters_at ON {schema}.dead_letters (dead_lettered_at)",
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE IF EXISTS {schema}.dead_letters")
    op.execute(f"DROP INDEX IF EXISTS {schema}.ix_outbox_unsent")
    op.execute(f"ALTER TABLE {schema}.outbox DROP COLUMN parked_reason, DROP COLUMN parked_at")
    op.execute(f"CREATE INDEX ix_outbox_unsent ON {schema}.outbox (id) WHERE sent_at IS NULL")
