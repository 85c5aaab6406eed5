"""The consumer runner: at-least-once delivery, exactly-once effect.

Its parts: the handlers a service registers (`handlers.py`), this runner, and the
dead letters it writes (`dead_letters.py`).

Each message is handled in one database transaction that also records its event id
in the service's `inbox`; a redelivered event finds its id there and is skipped. Kafka
offsets are committed after those transactions, in small batches (see `commit_batch`,
`commit_interval`) and whenever partitions are revoked or the runner stops; what a
crash leaves uncommitted is fetched again and skipped by the inbox.

Failures are classified by what failed, not by exception type:

- the consumer's own infrastructure (its database, the broker) is waited for and
  retried without limit, and never counts as an attempt: dead-lettering every message
  during an outage would be wrong;
- anything else a handler raises (its S3 or HTTP calls, a bug, a timeout) is an
  attempt; after `max_attempts` the message goes to `<topic>.dlq.<service>`, is
  recorded in `dead_letters` so that fetching it again does not repeat that, and
  consumption goes on.

Unknown event types are skipped and counted (a newer producer may add types to a
topic); messages that cannot be decoded go to the dead-letter topic at once.

Events are facts from their owner, never requests from anyone: an event whose
`ce_source` is not its type's owning service, or that a handler refuses (`RefusedEventError`:
its data names something its producer could not own), is never applied. It goes to
the dead-letter topic at once with its reason, and is counted in
`events_refused_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from opentelemetry import trace
from prometheus_client import Gauge
from sqlalchemy import BigInteger, Integer, Text, Uuid, bindparam, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_events import tracing
from edvent_events.admin import ensure_topics
from edvent_events.connection import Kafka, client_kwargs
from edvent_events.contract import Event
from edvent_events.dead_letters import (
    DLQ_HEADERS,
    DLQ_MAX_MESSAGE_BYTES,
    DLQ_MAX_REQUEST_SIZE,
    HANDLED,
    DeadLetters,
)
from edvent_events.envelope import Envelope, UnknownEventTypeError, decode
from edvent_events.handlers import REFUSED, Apply, Handler, Handlers, Prepare, RefusedEventError
from edvent_events.outbox import dead_letters, inbox
from edvent_events.relay import producer_settings
from edvent_events.topics import dlq_topic, retry_topic

logger = logging.getLogger("edvent.events.consumer")

LAG = Gauge(
    "kafka_consumer_lag",
    "Records of a partition not yet read by this member of the group (the partition's end"
    " as last fetched, minus the consumer's position)",
    ["group", "topic", "partition"],
    # A partition belongs to one worker at a time (`serve --workers`): the live one's.
    multiprocess_mode="livemax",
)
# How often the lag is measured (reading what the consumer already knows; no request).
LAG_INTERVAL = 2.0

__all__ = [
    "DLQ_HEADERS",
    "DLQ_MAX_MESSAGE_BYTES",
    "DLQ_MAX_REQUEST_SIZE",
    "Apply",
    "ConsumerRunner",
    "Handler",
    "Handlers",
    "Prepare",
    "RefusedEventError",
]

# Whether this record was dead-lettered here; also why a claim found nothing to do, which
# a redelivery storm after a crash asks per message.
DEAD_LETTERED = select(dead_letters.c.offset).where(
    dead_letters.c.topic == bindparam("topic"),
    dead_letters.c.partition == bindparam("partition"),
    dead_letters.c.offset == bindparam("offset"),
)

# Record the event in the inbox unless it is there already or was dead-lettered here.
# Built once: building the statement per message cost more than running it.
CLAIM = (
    pg_insert(inbox)
    .from_select(
        ["event_id", "ce_type", "topic", "partition", "offset"],
        select(
            bindparam("event_id", type_=Uuid),
            bindparam("ce_type", type_=Text),
            bindparam("topic", type_=Text),
            bindparam("partition", type_=Integer),
            bindparam("offset", type_=BigInteger),
        ).where(~DEAD_LETTERED.exists()),
    )
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(inbox.c.event_id)
)


class HandlerTimeoutError(Exception):
    """A handler ran longer than its limit; counts as a failed attempt, not as an outage."""


class OwnDatabaseError(Exception):
    """The runner's own database work failed (claiming the event in the inbox)."""


# Whether the inbox already holds the event: a two-step handler asks before its slow half.
HANDLED_BEFORE = select(inbox.c.event_id).where(inbox.c.event_id == bindparam("event_id"))


@dataclass
class _Attempt:
    # Until the inbox claim succeeded, or while a two-step handler's slow half runs, a
    # failure is the handler's; otherwise it is the consumer's own database's.
    claimed: bool = False


def _is_database_outage(error: BaseException) -> bool:
    """Whether SQLAlchemy itself says the connection or the pool failed (any driver)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection in time
            return True
        current = current.__cause__ or current.__context__
    return False


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.runner._partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


class ConsumerRunner:
    def __init__(
        self,
        *,
        service: str,
        bootstrap_servers: Kafka,  # with the service's own Kafka credentials
        sessions: async_sessionmaker[AsyncSession],
        handlers: Handlers,
        group_id: str | None = None,
        topics: Sequence[str] | None = None,
        max_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
        handler_timeout: float = 60.0,
        probe_timeout: float = 5.0,
        stop_grace: float = 30.0,
        commit_batch: int = 100,
        commit_interval: float = 1.0,
        create_topics: bool = True,
    ) -> None:
        if not handlers:
            raise ValueError("a consumer runner needs at least one handler")
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.sessions = sessions
        self.handlers = handlers
        self.group_id = group_id or service
        self.topics = sorted(set(topics or [cls.topic for cls in handlers.event_types]))
        # Redriven dead letters come back on a topic only this service reads.
        self._source_topics = {retry_topic(t, service): t for t in self.topics}
        self.max_attempts = max_attempts
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        # A hung handler would hold its partitions and make shutdown wait forever.
        self.handler_timeout = handler_timeout
        self.probe_timeout = probe_timeout
        self.stop_grace = stop_grace
        self.commit_batch = commit_batch
        self.commit_interval = commit_interval
        self.create_topics = create_topics
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.connected = asyncio.Event()
        # Offsets of settled records not committed yet; dropped on revocation (the
        # epoch tells a record fetched before a rebalance from one fetched after).
        self._pending: dict[TopicPartition, int] = {}
        self._settled_since_commit = 0
        self._last_commit = time.monotonic()
        self._epoch = 0
        self._unknown_types_logged: set[str] = set()
        self._lag_task: asyncio.Task[None] | None = None
        self._dead_letters = DeadLetters(
            service=service,
            sessions=sessions,
            source_topics=self._source_topics,
            sleep=self._backoff,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
        )

    @property
    def max_poll_interval_ms(self) -> int:
        """How long one record may take before Kafka presumes this member dead.

        Records are fetched one at a time, so the longest gap between two polls is one
        record's worst case: every attempt running into the handler timeout and a
        database probe, the backoffs between them, then the dead letter. The margin
        covers the dead letter and the commit; a database outage may take longer, and
        then the member rejoins the group once it is over.
        """
        backoffs = sum(
            min(self.initial_backoff * 2**i, self.max_backoff) for i in range(self.max_attempts)
        )
        worst = self.max_attempts * (self.handler_timeout + self.probe_timeout) + backoffs
        return int((worst * 1.5 + 60) * 1000)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start consuming in the background; a broker that is down is waited for."""
        self._task = asyncio.create_task(self._main(), name=f"consumer-{self.service}")

    async def _connect(self) -> None:
        if self.create_topics:
            await ensure_topics(
                self.bootstrap_servers,
                [dlq_topic(t, self.service) for t in self.topics] + list(self._source_topics),
                configs={"max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)},
            )
        consumer = AIOKafkaConsumer(
            **client_kwargs(self.bootstrap_servers),
            group_id=self.group_id,
            client_id=f"{self.service}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=self.max_poll_interval_ms,
        )
        consumer.subscribe(
            topics=[*self.topics, *self._source_topics], listener=_CommitOnRevoke(self)
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
        # Beside the loop: a handler that takes long is when the lag matters.
        self._lag_task = asyncio.create_task(self._measure_lag(), name=f"lag-{self.service}")
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
        if self._lag_task is not None:
            self._lag_task.cancel()
            # A measurement that failed must not fail the shutdown.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._lag_task
        await self._commit_pending()
        await _close_quietly(self._consumer, self._producer)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while not self._stopping.is_set():
            # One record per poll: the gap between polls is one record's worst case,
            # which `max_poll_interval_ms` is derived from. aiokafka prefetches, so
            # this costs no extra round trips.
            batch = await consumer.getmany(timeout_ms=500, max_records=1)
            if not batch:
                await self._commit_pending()
                continue
            for tp, records in batch.items():
                for record in records:
                    epoch = self._epoch
                    try:
                        settled = await self._process(record)
                    except Exception:
                        # getmany already moved the position past the record: rewind,
                        # or the restarted loop would skip it (and later commit past it).
                        with contextlib.suppress(Exception):  # no longer assigned
                            consumer.seek(tp, record.offset)
                        raise
                    if not settled:
                        return  # stopping; the record is fetched again after a restart
                    if epoch == self._epoch:
                        self._pending[tp] = record.offset + 1
                        self._settled_since_commit += 1
            if (
                self._settled_since_commit >= self.commit_batch
                or time.monotonic() - self._last_commit >= self.commit_interval
            ):
                await self._commit_pending()

    async def _commit_pending(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        if self._consumer is None:
            return
        wanted = set(self._pending) if partitions is None else set(partitions)
        offsets = {tp: self._pending.pop(tp) for tp in wanted if tp in self._pending}
        if partitions is None:
            self._settled_since_commit = 0
            self._last_commit = time.monotonic()
        offsets = {tp: o for tp, o in offsets.items() if tp in self._consumer.assignment()}
        if not offsets:
            return
        try:
            async with asyncio.timeout(30):
                await self._consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001
            # The group rebalanced without us (or the broker is away): the partitions'
            # next owner resumes from the last committed offset; the inbox and the
            # dead-letter record absorb the repeats.
            logger.warning("offset commit of %s failed: %s", self.service, exc)

    async def _partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._epoch += 1
        await self._commit_pending(revoked)
        for tp in revoked:
            # Another member reports these now.
            with contextlib.suppress(KeyError):
                LAG.remove(self.group_id, tp.topic, str(tp.partition))

    async def _measure_lag(self) -> None:
        """Every `LAG_INTERVAL`, from what the consumer knows (its prefetching keeps each
        partition's end fresh while a handler runs); no request to the broker."""
        while not self._stopping.is_set():
            consumer = self._consumer
            assert consumer is not None  # connected before this starts
            for tp in list(consumer.assignment()):
                try:
                    # Either may find the partition revoked by a rebalance meanwhile
                    # (aiokafka asserts it is assigned); the next round sees the new set.
                    highwater = consumer.highwater(tp)
                    if highwater is None:
                        continue  # nothing fetched from it yet
                    position = await asyncio.wait_for(consumer.position(tp), timeout=0.05)
                except Exception:  # noqa: BLE001, S112 - revoked meanwhile, or no position yet
                    continue
                LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(
                    max(highwater - position, 0)
                )
            await self._backoff(LAG_INTERVAL)

    async def _process(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Handle one record; True when it is settled (handled, skipped or dead-lettered)."""
        try:
            envelope = decode(record.headers, record.value)
            event_id = uuid.UUID(envelope.id)
        except UnknownEventTypeError as exc:
            self._skip_unknown_type(record, exc.ce_type)
            return True
        except Exception as exc:  # noqa: BLE001 - whatever the cause, the message is at fault
            return await self._dead_letter(record, exc, attempts=1, label="undecodable")
        owner = type(envelope.data).source
        if envelope.source != owner:
            REFUSED.labels(self.service, envelope.type, "wrong_source").inc()
            refused = RefusedEventError(
                f"ce_source {envelope.source!r} is not this type's owner {owner!r}"
            )
            return await self._dead_letter(record, refused, attempts=1, label="refused")
        handler = self.handlers.get(type(envelope.data))
        if handler is None:
            # A known event type this service has no interest in (topics carry several).
            HANDLED.labels(self.service, envelope.type, "ignored").inc()
            return True
        attempts = 0
        failures = 0
        backoff = self.initial_backoff
        while True:
            try:
                outcome = await self._attempt(record, envelope, event_id, handler)
            except RefusedEventError as exc:
                REFUSED.labels(self.service, envelope.type, "refused_by_handler").inc()
                logger.warning("consumer %s refused %s: %s", self.service, envelope.id, exc)
                return await self._dead_letter(
                    record, exc, attempts=1, label="refused", event_id=event_id
                )
            except Exception as exc:
                failures += 1
                if failures == 1:
                    # What was settled before this record should not wait for its retries.
                    await self._commit_pending()
                if await self._own_infrastructure_failed(exc):
                    logger.warning(
                        "consumer %s: its database failed while handling %s; retrying "
                        "without counting an attempt: %s",
                        self.service,
                        envelope.id,
                        _describe(exc),
                    )
                    if not await self._backoff(backoff) or not await self._wait_for_database():
                        return False
                else:
                    attempts += 1
                    if attempts >= self.max_attempts:
                        logger.error(
                            "giving up on %s after %d attempts",
                            envelope.id,
                            attempts,
                            exc_info=exc,
                        )
                        return await self._dead_letter(
                            record, exc, attempts=attempts, label=envelope.type, event_id=event_id
                        )
                    logger.warning(
                        "handler for %s failed (attempt %d of %d): %s",
                        envelope.type,
                        attempts,
                        self.max_attempts,
                        _describe(exc),
                    )
                    if not await self._backoff(backoff):
                        return False
                backoff = min(backoff * 2, self.max_backoff)
                continue
            HANDLED.labels(self.service, envelope.type, outcome).inc()
            return True

    def _skip_unknown_type(self, record: ConsumerRecord[Any, Any], ce_type: str) -> None:
        # A newer producer may add event types to a topic (CONTRACT.md: readers skip
        # what they do not know). Logged once per type; the counter has every one.
        HANDLED.labels(self.service, ce_type, "unknown_type").inc()
        if ce_type not in self._unknown_types_logged:
            self._unknown_types_logged.add(ce_type)
            logger.warning(
                "consumer %s skips events of unknown type %r (first at %s:%s@%s); "
                "further ones are only counted in events_handled_total",
                self.service,
                ce_type,
                record.topic,
                record.partition,
                record.offset,
            )

    async def _attempt(
        self,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope[Event],
        event_id: uuid.UUID,
        handler: Handler[Any],
    ) -> str:
        attempt = _Attempt()
        timer = asyncio.timeout(self.handler_timeout)
        try:
            async with timer:
                return await self._handle_once(record, envelope, event_id, handler, attempt)
        except Exception as exc:
            # A TimeoutError of the handler's own work (not our timer) is an ordinary failure.
            expired = isinstance(exc, TimeoutError) and timer.expired()
            if not attempt.claimed:
                raise OwnDatabaseError(
                    f"claiming the event in the inbox took longer than {self.handler_timeout:g}s"
                    if expired
                    else _describe(exc)
                ) from exc
            if expired:
                raise HandlerTimeoutError(
                    f"handler took longer than {self.handler_timeout:g}s"
                ) from exc
            raise

    async def _handle_once(
        self,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope[Event],
        event_id: uuid.UUID,
        handler: Handler[Any],
        attempt: _Attempt,
    ) -> str:
        # Events this handler writes continue the trace of the event it handles.
        with tracing.consuming(
            name=f"{record.topic} process",
            traceparent=envelope.traceparent,
            attributes=tracing.kafka_attributes(
                operation="process",
                topic=record.topic,
                key=envelope.subject,
                event_id=envelope.id,
                **{
                    "messaging.consumer.group.name": self.group_id,
                    "messaging.destination.partition.id": str(record.partition),
                    "messaging.kafka.offset": record.offset,
                    "cloudevents.event_type": envelope.type,
                },
            ),
        ):
            outcome = await self._handle_in_span(record, envelope, event_id, handler, attempt)
            trace.get_current_span().set_attribute("edvent.outcome", outcome)
            return outcome

    async def _handle_in_span(
        self,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope[Event],
        event_id: uuid.UUID,
        handler: Handler[Any],
        attempt: _Attempt,
    ) -> str:
        prepare = self.handlers.preparation(type(envelope.data))
        apply: Apply | None = None
        if prepare is not None:
            async with self.sessions() as session:
                if await session.scalar(HANDLED_BEFORE, {"event_id": event_id}) is not None:
                    return "duplicate"
                where = {
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                }
                if await session.scalar(DEAD_LETTERED, where) is not None:
                    return "already_dead_lettered"
            # Outside any transaction: the slow half holds no connection.
            attempt.claimed = True
            apply = await prepare(envelope)
            attempt.claimed = False
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                CLAIM,
                {
                    "event_id": event_id,
                    "ce_type": envelope.type,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
            if claimed.first() is None:
                return await self._why_not_claimed(session, record)
            attempt.claimed = True
            if apply is not None:
                await apply(session)
            else:
                await handler(session, envelope)
        return "handled"

    async def _why_not_claimed(
        self, session: AsyncSession, record: ConsumerRecord[Any, Any]
    ) -> str:
        dead = await session.scalar(
            DEAD_LETTERED,
            {"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )
        return "duplicate" if dead is None else "already_dead_lettered"

    # -- telling an outage from a failing handler ------------------------------------------

    async def _own_infrastructure_failed(self, error: BaseException) -> bool:
        if isinstance(error, OwnDatabaseError) or _is_database_outage(error):
            return True
        # Whatever the handler raised (an OSError of its own S3 call looks like one of
        # a lost database connection): if our database does not answer now, the attempt
        # says nothing about the message.
        return not await self._database_answers()

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(self.probe_timeout), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means it does not answer
            return False
        return True

    async def _wait_for_database(self) -> bool:
        """Wait until the database answers; False when stopping first."""
        backoff = self.initial_backoff
        waited = False
        while not await self._database_answers():
            if not waited:
                logger.warning("consumer %s: its database does not answer; waiting", self.service)
                waited = True
            if not await self._backoff(backoff):
                return False
            backoff = min(backoff * 2, self.max_backoff)
        if waited:
            logger.warning("consumer %s: its database answers again", self.service)
        return True

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        *,
        attempts: int,
        label: str,
        event_id: uuid.UUID | None = None,
    ) -> bool:
        assert self._producer is not None
        return await self._dead_letters.write(
            self._producer, record, error, attempts=attempts, label=label, event_id=event_id
        )

    async def _backoff(self, seconds: float) -> bool:
        """Sleep unless asked to stop; False when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return not self._stopping.is_set()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


async def _close_quietly(*clients: AIOKafkaConsumer | AIOKafkaProducer | None) -> None:
    for client in clients:
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.stop(), timeout=10)
