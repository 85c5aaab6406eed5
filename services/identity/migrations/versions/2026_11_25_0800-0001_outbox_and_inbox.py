"""outbox and inbox for events

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen: the DDL as it was written then. Later changes to the events library's tables
come as new migrations, never as edits here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {schema}.outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id uuid NOT NULL UNIQUE,
            topic text NOT NULL,
            key text NOT NULL,
            ce_type text NOT NULL,
            source text NOT NULL,
            occurred_at timestamptz NOT NULL,
            data jsonb NOT NULL,
            traceparent text,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            last_error text
        )
        """,
        f"CREATE INDEX ix_outbox_unsent ON {schema}.outbox (id) WHERE sent_at IS NULL",
        f"CREATE INDEX ix_outbox_sent_at ON {schema}.outbox (sent_at) WHERE sent_at IS NOT NULL",
        f"""
        CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_{schema}', '');
            RETURN NULL;
        END
        $$
        """,
        f"""
        CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()
        """,
        f"""
        CREATE TABLE {schema}.inbox (
            event_id uuid PRIMARY KEY,
            ce_type text NOT NULL,
            topic text NOT NULL,
            partition integer NOT NULL,
            "offset" bigint NOT NULL,
            handled_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        f"CREATE INDEX ix_inbox_handled_at ON {schema}.inbox (handled_at)",
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE IF EXISTS {schema}.inbox")
    op.execute(f"DROP TABLE IF EXISTS {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
