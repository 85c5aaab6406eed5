"""The DDL of the events tables (outbox, inbox, dead letters), said once.

Each service's migrations create these tables by calling the numbered steps below
(`0001` calls `upgrade(1)`, `0002` calls `upgrade(2)`), so the four services cannot
drift apart. A step is a frozen record of a change: once released it is never edited,
because databases already migrated ran it as it was. A change to the tables is a new
step here plus a new migration in every service that calls it, and the runtime table
definitions in `outbox.py` follow; each service's schema test compares those
definitions with what the steps built.
"""

from __future__ import annotations

from collections.abc import Callable

from edvent_events.outbox import notify_channel

Statements = Callable[[str], list[str]]


def _create_outbox_and_inbox(schema: str) -> list[str]:
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
            PERFORM pg_notify('{notify_channel(schema)}', '');
            RETURN NULL;
        END
        $$
        """,
        # Once per statement, not per row: the relay only needs to know there is work.
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


def _drop_outbox_and_inbox(schema: str) -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {schema}.inbox",
        f"DROP TABLE IF EXISTS {schema}.outbox",
        f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()",
    ]


def _park_and_dead_letters(schema: str) -> list[str]:
    # An operator can park an outbox row the broker keeps refusing; the consumer
    # records what it dead-lettered so a message fetched again is not sent twice.
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


def _unpark_and_drop_dead_letters(schema: str) -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {schema}.dead_letters",
        f"DROP INDEX IF EXISTS {schema}.ix_outbox_unsent",
        f"ALTER TABLE {schema}.outbox DROP COLUMN parked_reason, DROP COLUMN parked_at",
        f"CREATE INDEX ix_outbox_unsent ON {schema}.outbox (id) WHERE sent_at IS NULL",
    ]


# step: (upgrade, downgrade). Append only.
STEPS: dict[int, tuple[Statements, Statements]] = {
    1: (_create_outbox_and_inbox, _drop_outbox_and_inbox),
    2: (_park_and_dead_letters, _unpark_and_drop_dead_letters),
}


def upgrade(step: int, schema: str) -> list[str]:
    return STEPS[step][0](schema)


def downgrade(step: int, schema: str) -> list[str]:
    return STEPS[step][1](schema)


def all_statements(schema: str) -> list[str]:
    """Every step in order: the tables as they are now, for test schemas and benchmarks."""
    return [statement for step in sorted(STEPS) for statement in upgrade(step, schema)]
