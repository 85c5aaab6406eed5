"""Dead letters: a message a consumer gives up on goes to `<topic>.dlq.<service>`.

The original value and headers travel unchanged, with `x-error`, `x-failed-at`,
`x-attempts` and where it came from. Each is recorded in the service's `dead_letters`
table in the same transaction as the send, so a message fetched again (a rebalance, a
crash) is not dead-lettered twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_events.envelope import header_map, rfc3339
from edvent_events.outbox import dead_letters
from edvent_events.topics import dlq_topic

logger = logging.getLogger("edvent.events.consumer")

HANDLED = Counter(
    "events_handled_total",
    "Events a consumer settled, by outcome: handled, duplicate, already_dead_lettered, "
    "ignored (no handler here), unknown_type (skipped), dead_lettered",
    ["service", "type", "outcome"],
)

# A dead letter is the original message plus our headers, so it may be larger than
# anything a producer could send to the original topic (1 MiB requests, Kafka's
# default); without the headroom the largest poison messages could never be parked
# and their partition would stop for good.
DLQ_HEADROOM = 64 * 1024
DLQ_MAX_REQUEST_SIZE = 1024 * 1024 + DLQ_HEADROOM
DLQ_MAX_MESSAGE_BYTES = 1048588 + DLQ_HEADROOM  # the broker's default message.max.bytes

DLQ_HEADERS = frozenset(
    (
        "x-error",
        "x-failed-at",
        "x-attempts",
        "x-original-topic",
        "x-original-partition",
        "x-original-offset",
    )
)


class DeadLetters:
    """Writes one consumer service's dead letters; retries until done or stopping."""

    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        source_topics: Mapping[str, str],
        sleep: Callable[[float], Awaitable[bool]],
        initial_backoff: float,
        max_backoff: float,
    ) -> None:
        self.service = service
        self.sessions = sessions
        # Redriven messages come back on a retry topic: their dead letters go to the
        # source topic's DLQ again.
        self._source_topics = source_topics
        self._sleep = sleep
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff

    async def write(
        self,
        producer: AIOKafkaProducer,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        *,
        attempts: int,
        label: str,
        event_id: uuid.UUID | None = None,
    ) -> bool:
        # Only our own headers are replaced (a redriven message failing again); other
        # `x-` headers belong to the original message, which travels unchanged.
        headers = [(k, v) for k, v in (record.headers or ()) if k not in DLQ_HEADERS]
        reason = f"{type(error).__name__}: {error}"[:2000]
        headers += [
            ("x-error", reason.encode()),
            ("x-failed-at", rfc3339(datetime.now(UTC)).encode()),
            ("x-attempts", str(attempts).encode()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
        ]
        ce_type = header_map(record.headers).get("ce_type")
        source = self._source_topics.get(record.topic, record.topic)
        backoff = self._initial_backoff
        while True:
            try:
                # The record and the send in one transaction: a second fetch of this
                # message (after a crash or a rebalance) finds the record and stops
                # here; a concurrent one waits for our commit, then finds it.
                async with self.sessions() as session, session.begin():
                    recorded = await session.execute(
                        pg_insert(dead_letters)
                        .values(
                            topic=record.topic,
                            partition=record.partition,
                            offset=record.offset,
                            event_id=event_id,
                            ce_type=ce_type.decode(errors="replace") if ce_type else None,
                            error=reason,
                            attempts=attempts,
                        )
                        .on_conflict_do_nothing()
                        .returning(dead_letters.c.offset)
                    )
                    if recorded.first() is None:
                        logger.info(
                            "%s:%s@%s was dead-lettered before; skipping it",
                            record.topic,
                            record.partition,
                            record.offset,
                        )
                        HANDLED.labels(self.service, label, "already_dead_lettered").inc()
                        return True
                    await producer.send_and_wait(
                        dlq_topic(source, self.service),
                        value=record.value,
                        key=record.key,
                        headers=headers,
                    )
                HANDLED.labels(self.service, label, "dead_lettered").inc()
                logger.error(
                    "dead-lettered %s:%s@%s: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    reason,
                )
                return True
            except Exception as exc:  # noqa: BLE001 - database or Kafka trouble: retry
                logger.warning("cannot write dead letter yet: %s", _describe(exc))
            if not await self._sleep(backoff):
                return False
            backoff = min(backoff * 2, self._max_backoff)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
