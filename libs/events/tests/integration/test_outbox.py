"""`add_event`: what it refuses before the caller's transaction commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from edvent_events.admin import ensure_topics
from edvent_events.contract import Event
from edvent_events.outbox import MAX_MESSAGE_BYTES, EventTooLargeError, add_event, message_size
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import equals, relay_for, unsent

pytestmark = pytest.mark.integration


class NotePadded(Event):
    """A test-only event whose size a test chooses."""

    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "note_id"

    note_id: str
    text: str


@pytest.fixture
async def padded(unique: Callable[[str], str], kafka: Any) -> type[NotePadded]:
    topic = unique("notes")
    await ensure_topics(kafka.admin, [topic])
    return type(  # type: ignore[return-value]
        f"NotePadded_{topic.replace('-', '_')}",
        (NotePadded,),
        {"topic": topic, "ce_type": f"edvent.tests.{topic}.v1", "__module__": __name__},
    )


def _sized(padded: type[NotePadded], size: int) -> NotePadded:
    """An event whose Kafka message, headers included, is `size` bytes by add_event's count."""
    event = padded(note_id="n1", text="")
    empty = message_size(
        event=event,
        data=event.model_dump(mode="json"),
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        traceparent=None,
    )
    return padded(note_id="n1", text="x" * (size - empty))


async def test_the_largest_event_add_event_accepts_goes_through_kafka(
    sessions, database_url, events_db, kafka, padded
):
    async with sessions() as session, session.begin():
        await add_event(session, _sized(padded, MAX_MESSAGE_BYTES))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        records = await read_topic(kafka.admin, padded.topic, expected=1)
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    finally:
        await relay.stop()
    assert len(records) == 1
    assert len(json.loads(records[0].value)["text"]) > MAX_MESSAGE_BYTES - 1024


async def test_an_event_too_large_for_kafka_is_refused_before_commit(
    sessions, database_url, events_db, padded
):
    too_large = _sized(padded, MAX_MESSAGE_BYTES + 1)
    # The data alone would pass the producer's own check: the headers tip it over.
    assert len(too_large.model_dump_json()) < MAX_MESSAGE_BYTES - 200

    async def change_with_events() -> None:
        async with sessions() as session, session.begin():
            await add_event(session, padded(note_id="n0", text="fine"))
            await add_event(session, too_large)

    with pytest.raises(EventTooLargeError, match="limit is 1,048,576 bytes"):
        await change_with_events()
    assert await unsent(database_url, events_db.schema) == 0


async def test_a_tombstone_event_goes_out_with_a_null_value_after_its_key(
    sessions, database_url, events_db, kafka, padded
):
    tombstone = type(
        f"{padded.__name__}_gone",
        (padded,),
        {"ce_type": f"{padded.ce_type}.gone", "tombstone": True, "__module__": __name__},
    )
    async with sessions() as session, session.begin():
        await add_event(session, padded(note_id="n1", text="kept until compaction"))
        await add_event(session, tombstone(note_id="n1", text=""))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        records = await read_topic(kafka.admin, padded.topic, expected=2)
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    finally:
        await relay.stop()
    assert [r.key for r in records] == [b"n1", b"n1"]
    assert json.loads(records[0].value)["text"] == "kept until compaction"
    assert records[1].value is None
    assert dict(records[1].headers)["ce_type"] == tombstone.ce_type.encode()
