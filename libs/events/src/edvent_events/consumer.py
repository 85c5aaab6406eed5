"""The consumer runner: at-least-once delivery, exactly-once effect.

Each message is handled in one database transaction that also records its event id
in the service's `inbox`; a redelivered event finds its id there and is skipped. The
Kafka offset is committed only after that transaction committed. A handler that
keeps failing is retried with backoff, then its message goes to
`<topic>.dlq.<service>` and consumption goes on; messages that cannot be decoded go
there at once. Infrastructure failures (database unreachable) are retried without
limit instead: dead-lettering every message during an outage would be wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_events.admin import ensure_topics
from edvent_events.contract import Event
from edvent_events.envelope import Envelope, decode, rfc3339
from edvent_events.outbox import inbox
from edvent_events.relay import producer_settings
from edvent_events.topics import dlq_topic
from edvent_events.tracing import current_traceparent, valid_traceparent

logger = logging.getLogger("edvent.events.consumer")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

HANDLED = Counter("events_handled_total", "Events handled", ["service", "type", "outcome"])

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


class HandlerTimeoutError(Exception):
    """A handler ran longer than its limit; counts as a failed attempt, not as an outage."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    OSError,
    TimeoutError,
)


class ConsumerRunner:
    def __init__(
        self,
        *,
        service: str,
        bootstrap_servers: str,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[type[Event], Handler],
        group_id: str | None = None,
        topics: Sequence[str] | None = None,
        max_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
        handler_timeout: float = 60.0,
        stop_grace: float = 30.0,
        create_dlq_topics: bool = True,
    ) -> None:
        if not handlers:
            raise ValueError("a consumer runner needs at least one handler")
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.sessions = sessions
        self.handlers = dict(handlers)
        self.group_id = group_id or service
        self.topics = sorted(set(topics or [cls.topic for cls in self.handlers]))
        self.max_attempts = max_attempts
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        # A hung handler would hold its partitions and make shutdown wait forever.
        self.handler_timeout = handler_timeout
        self.stop_grace = stop_grace
        self.create_dlq_topics = create_dlq_topics
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.connected = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start consuming in the background; a broker that is down is waited for."""
        self._task = asyncio.create_task(self._main(), name=f"consumer-{self.service}")

    async def _connect(self) -> None:
        if self.create_dlq_topics:
            await ensure_topics(
                self.bootstrap_servers,
                [dlq_topic(t, self.service) for t in self.topics],
                configs={"max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)},
            )
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=f"{self.service}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        producer = AIOKafkaProducer(
            **producer_settings(self.bootstrap_servers, f"{self.service}-dlq")
            | {"max_request_size": DLQ_MAX_REQUEST_SIZE}
        )
        try:
            await producer.start()
            await consumer.start()
        except BaseException:
            await _close_quietly(consumer, producer)
            raise
        self._consumer, self._producer = consumer, producer

    async def _main(self) -> None:
        backoff = self.initial_backoff
        while not self._stopping.is_set():
            try:
                await self._connect()
                break
            except Exception as exc:  # noqa: BLE001 - broker not reachable yet
                logger.warning("consumer %s cannot connect yet: %s", self.service, exc)
            if not await self._backoff(backoff):
                return
            backoff = min(backoff * 2, self.max_backoff)
        self.connected.set()
        while not self._stopping.is_set():
            try:
                await self._run()
            except Exception:
                logger.exception("consumer loop of %s failed; resuming", self.service)
                await self._backoff(1.0)

    async def stop(self) -> None:
        """Finish the message in flight, commit what was handled, leave the group."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_grace)
            except TimeoutError:
                # Cancelling rolls the handler's transaction back; its offset was not
                # committed, so the message is handled again after the restart.
                logger.warning("consumer %s: handler still busy, cancelling", self.service)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except asyncio.CancelledError:
                pass
        await _close_quietly(self._consumer, self._producer)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=200)
            # getmany already moved each position past its records: if this loop fails,
            # rewind to the first record not settled, or the restarted loop would skip
            # (and later commit past) the rest of the batch.
            unsettled = {tp: records[0].offset for tp, records in batches.items() if records}
            try:
                for tp, records in batches.items():
                    done: ConsumerRecord[Any, Any] | None = None
                    for record in records:
                        if self._stopping.is_set():
                            break
                        if await self._process(record):
                            done = record
                            unsettled[tp] = record.offset + 1
                        else:
                            break  # stopped while retrying; the record will be redelivered
                    if done is not None:
                        await self._commit(tp, done.offset + 1)
                    if self._stopping.is_set():
                        break
            except Exception:
                for tp, offset in unsettled.items():
                    with contextlib.suppress(Exception):  # no longer assigned: nothing to rewind
                        consumer.seek(tp, offset)
                raise

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: offset})
        except Exception as exc:  # noqa: BLE001
            # A rebalance took the partition away; its new owner resumes from the last
            # committed offset and the inbox absorbs the repeats.
            logger.warning("offset commit for %s failed: %s", tp, exc)

    async def _process(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Handle one record; True when it is settled (handled, skipped or dead-lettered)."""
        try:
            envelope = decode(record.headers, record.value)
            event_id = uuid.UUID(envelope.id)
        except Exception as exc:  # noqa: BLE001 - whatever the cause, the message is at fault
            HANDLED.labels(self.service, "undecodable", "dead_lettered").inc()
            return await self._dead_letter(record, exc, attempts=1)
        handler = self.handlers.get(type(envelope.data))
        if handler is None:
            # A known event type this service has no interest in (topics carry several).
            return True
        attempts = 0
        backoff = self.initial_backoff
        while True:
            try:
                timer = asyncio.timeout(self.handler_timeout)
                try:
                    async with timer:
                        outcome = await self._handle_once(record, envelope, event_id, handler)
                except TimeoutError as exc:
                    if not timer.expired():
                        raise  # a timeout inside the handler, e.g. reaching the database
                    raise HandlerTimeoutError(
                        f"handler took longer than {self.handler_timeout:g}s"
                    ) from exc
                HANDLED.labels(self.service, envelope.type, outcome).inc()
                return True
            except TRANSIENT_ERRORS as exc:
                logger.warning("transient failure handling %s, retrying: %s", envelope.id, exc)
            except Exception as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    logger.exception("giving up on %s after %d attempts", envelope.id, attempts)
                    HANDLED.labels(self.service, envelope.type, "dead_lettered").inc()
                    return await self._dead_letter(record, exc, attempts=attempts)
                logger.warning(
                    "handler for %s failed (attempt %d): %s", envelope.type, attempts, exc
                )
            if not await self._backoff(backoff):
                return False
            backoff = min(backoff * 2, self.max_backoff)

    async def _handle_once(
        self,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope,
        event_id: uuid.UUID,
        handler: Handler,
    ) -> str:
        # Events this handler writes continue the trace of the event it handles.
        token = current_traceparent.set(valid_traceparent(envelope.traceparent))
        try:
            async with self.sessions() as session, session.begin():
                claimed = await session.execute(
                    pg_insert(inbox)
                    .values(
                        event_id=event_id,
                        ce_type=envelope.type,
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                    )
                    .on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(inbox.c.event_id)
                )
                if claimed.first() is None:
                    return "duplicate"
                await handler(session, envelope)
            return "handled"
        finally:
            current_traceparent.reset(token)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, *, attempts: int
    ) -> bool:
        assert self._producer is not None
        # Only our own headers are replaced (a redriven message failing again); other
        # `x-` headers belong to the original message, which travels unchanged.
        headers = [(k, v) for k, v in (record.headers or ()) if k not in DLQ_HEADERS]
        headers += [
            ("x-error", f"{type(error).__name__}: {error}"[:2000].encode()),
            ("x-failed-at", rfc3339(datetime.now(UTC)).encode()),
            ("x-attempts", str(attempts).encode()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
        ]
        backoff = self.initial_backoff
        while True:
            try:
                await self._producer.send_and_wait(
                    dlq_topic(record.topic, self.service),
                    value=record.value,
                    key=record.key,
                    headers=headers,
                )
                logger.error(
                    "dead-lettered %s:%s@%s: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    error,
                )
                return True
            except Exception as exc:  # noqa: BLE001 - Kafka trouble: keep the offset, retry
                logger.warning("cannot write dead letter yet: %s", exc)
            if not await self._backoff(backoff):
                return False
            backoff = min(backoff * 2, self.max_backoff)

    async def _backoff(self, seconds: float) -> bool:
        """Sleep unless asked to stop; False when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return not self._stopping.is_set()


async def _close_quietly(*clients: AIOKafkaConsumer | AIOKafkaProducer | None) -> None:
    for client in clients:
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.stop(), timeout=10)
