"""Replay the consumed topics from a moment: the same statements again, by id.

Statement ids are UUIDv5 of the events' ids, so what the LRS or the queue already
holds is not duplicated; what is missing (the service started after the events, or
a new LRS) is queued and sent by the running service's sender.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.connection import Kafka, client_kwargs
from edvent_events.consumer import Handlers
from edvent_events.envelope import DecodeError, decode

logger = logging.getLogger("edvent.learning_records.backfill")

# A partition that yields nothing for this long (the broker gone) ends the replay of
# its topic rather than hanging the command.
STALL_SECONDS = 60


@dataclass
class Replayed:
    read: int = 0
    applied: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


async def replay_topics(
    *,
    kafka: Kafka,
    topics: Sequence[str],
    since: datetime,
    handlers: Handlers,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    batch: int = 500,
) -> Replayed:
    """Topics one after the other, in the order given (identity.users first: an erased
    user is known before their other events come), each up to its end at the start."""
    replayed = Replayed()
    consumer = AIOKafkaConsumer(**client_kwargs(kafka), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        for topic in topics:
            await _replay_topic(consumer, topic, since, handlers, transaction, batch, replayed)
    finally:
        await consumer.stop()
    return replayed


async def _replay_topic(
    consumer: AIOKafkaConsumer,
    topic: str,
    since: datetime,
    handlers: Handlers,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    batch: int,
    replayed: Replayed,
) -> None:
    # A consumer without a subscription tracks no topic's metadata: ask for all of it
    # through aiokafka's client.
    cluster = await consumer._client.fetch_all_metadata()
    numbers = cluster.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(numbers)]
    if not tps:
        logger.warning("backfill: topic %s not found", topic)
        return
    # Replaces the previous topic's assignment. (Unsubscribing after a manual
    # assignment left aiokafka's stop() waiting for good.)
    consumer.assign(tps)
    logger.info("backfill: %s, partitions %s", topic, [tp.partition for tp in tps])
    ends = await consumer.end_offsets(tps)
    found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
    remaining = {}
    for tp in tps:
        start = found[tp].offset if found[tp] is not None else ends[tp]
        if start < ends[tp]:
            consumer.seek(tp, start)
            remaining[tp] = ends[tp]
    logger.info("backfill: %s from %s to %s", topic, found, ends)
    stalled_since = time.monotonic()
    while remaining:
        if time.monotonic() - stalled_since > STALL_SECONDS:
            logger.warning("backfill: %s made no progress for %ss; stopping", topic, STALL_SECONDS)
            break
        fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
        records: list[Any] = [
            message
            for tp, messages in fetched.items()
            for message in messages
            if message.offset < remaining.get(tp, 0)
        ]
        if records:
            stalled_since = time.monotonic()
            async with transaction() as session:
                for record in records:
                    replayed.read += 1
                    await _apply(record, handlers, session, replayed)
        # The position, not the last record's offset: a log may end in offsets that hold
        # no record (compacted away, or a transaction marker).
        for tp in list(remaining):
            if await consumer.position(tp) >= remaining[tp]:
                del remaining[tp]


async def _apply(
    record: Any, handlers: Handlers, session: AsyncSession, replayed: Replayed
) -> None:
    try:
        envelope = decode(record.headers, record.value)
    except DecodeError:
        replayed.skip("undecodable")
        return
    if envelope.source != type(envelope.data).source:
        replayed.skip("wrong_source")  # never applied, as the consumer refuses it
        return
    handler = handlers.get(type(envelope.data))
    if handler is None:
        replayed.skip("not_mapped")
        return
    await handler(session, envelope)
    replayed.applied += 1
