"""The transactional outbox: an event is written in the same transaction as the change.

`add_event` only inserts a row through the caller's session; whoever owns the unit of
work commits it together with the change it announces, or neither happens. The relay
(`relay.py`) later publishes the rows. Table names are left unqualified on purpose:
every service session has its own schema first on the `search_path`, so the same
code writes to `identity.outbox`, `content.outbox`, ... as the caller's role allows.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from opentelemetry.trace import SpanKind
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events import tracing
from edvent_events.contract import Event
from edvent_events.envelope import build_headers, rfc3339

# The largest Kafka message the relay's producer sends (its `max_request_size`, 1 MiB,
# just under the brokers' default `message.max.bytes`). `add_event` refuses larger
# events while the caller can still roll back: one that reached the outbox would hold
# up every event behind it.
MAX_MESSAGE_BYTES = 1024 * 1024
# A record's own framing and its batch's header, with room to spare.
RECORD_OVERHEAD_BYTES = 512


class EventTooLargeError(ValueError):
    """The event would not fit in one Kafka message; put large content elsewhere (S3)."""


# The tables as `ddl.py`'s steps leave them; each service's schema test compares them
# with its migrated schema.
_runtime = MetaData()

outbox = Table(
    "outbox",
    _runtime,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("ce_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("traceparent", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    # Set by an operator (`edvent-events outbox park`): kept, shown, no longer published.
    Column("parked_at", DateTime(timezone=True)),
    Column("parked_reason", Text),
    UniqueConstraint("event_id", name="outbox_event_id_key"),
    Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL AND parked_at IS NULL")),
    Index("ix_outbox_sent_at", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
)

inbox = Table(
    "inbox",
    _runtime,
    Column("event_id", Uuid, primary_key=True),
    Column("ce_type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_inbox_handled_at", "handled_at"),
)

# Messages this service's consumer dead-lettered, by their place in the log: fetched
# again (after a rebalance, say), they are not dead-lettered a second time.
dead_letters = Table(
    "dead_letters",
    _runtime,
    Column("topic", Text, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("event_id", Uuid),
    Column("ce_type", Text),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("dead_lettered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_dead_letters_at", "dead_lettered_at"),
)


def events_tables() -> tuple[Table, ...]:
    """The events tables every service's schema holds."""
    return (outbox, inbox, dead_letters)


async def add_event(
    session: AsyncSession,
    event: Event,
    *,
    traceparent: str | None = None,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> uuid.UUID:
    """Stage `event` in the caller's transaction; returns its CloudEvents id.

    Raises `EventTooLargeError` (nothing is staged) when the message the relay would
    send, headers included, exceeds `MAX_MESSAGE_BYTES`.
    """
    event_id = event_id or uuid.uuid4()
    occurred_at = occurred_at or datetime.now(UTC)
    if traceparent is not None or not tracing.enabled():
        return await _add_event(
            session,
            event,
            traceparent=traceparent or tracing.current_traceparent(),
            event_id=event_id,
            occurred_at=occurred_at,
        )
    # The row stores this span's context: the relay's publish and the consumers'
    # handling hang under the work that wrote the event.
    with tracing.tracer("edvent_events.outbox").start_as_current_span(
        f"{event.topic} create",
        kind=SpanKind.PRODUCER,
        attributes=tracing.kafka_attributes(
            operation="create", topic=event.topic, key=event.subject, event_id=str(event_id)
        )
        | {"cloudevents.event_type": event.ce_type},
    ):
        return await _add_event(
            session,
            event,
            traceparent=tracing.current_traceparent(),
            event_id=event_id,
            occurred_at=occurred_at,
        )


async def _add_event(
    session: AsyncSession,
    event: Event,
    *,
    traceparent: str | None,
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> uuid.UUID:
    data = None if event.tombstone else event.model_dump(mode="json")
    size = message_size(
        event=event, data=data, event_id=event_id, occurred_at=occurred_at, traceparent=traceparent
    )
    if size > MAX_MESSAGE_BYTES:
        raise EventTooLargeError(
            f"{event.ce_type} for {event.subject!r} would be a {size:,}-byte Kafka message;"
            f" the limit is {MAX_MESSAGE_BYTES:,} bytes"
        )
    await session.execute(
        insert(outbox).values(
            event_id=event_id,
            topic=event.topic,
            key=event.subject,
            ce_type=event.ce_type,
            source=event.source,
            occurred_at=occurred_at,
            # A tombstone's row holds JSON null (the column is NOT NULL); the relay sends
            # it as a null value.
            data=JSON.NULL if data is None else data,
            traceparent=traceparent,
        )
    )
    return event_id


def message_size(
    *,
    event: Event,
    data: dict[str, object] | None,
    event_id: uuid.UUID,
    occurred_at: datetime,
    traceparent: str | None,
) -> int:
    """The size of the Kafka message the relay will send for this event, in bytes."""
    # The relay sends PostgreSQL's text of the jsonb value, which spaces its separators
    # the way json.dumps does by default.
    value = json.dumps(data, ensure_ascii=False).encode()
    headers = build_headers(
        event_id=str(event_id),
        source=event.source,
        ce_type=event.ce_type,
        time=rfc3339(occurred_at),
        subject=event.subject,
        traceparent=traceparent,
    )
    return (
        RECORD_OVERHEAD_BYTES
        + len(event.subject.encode())
        + len(value)
        + sum(len(name.encode()) + len(header) for name, header in headers)
    )


def notify_channel(schema: str) -> str:
    return f"outbox_{schema}"


def create_outbox_and_inbox_sql(schema: str) -> list[str]:
    """DDL of the events tables as they are now (every step of `ddl.py`), for test
    schemas and benchmarks."""
    from edvent_events import ddl  # ddl imports this module

    return ddl.all_statements(schema)
