"""The outbox relay: publishes a service's outbox rows to Kafka, in order, at least once.

One relay per service publishes at a time: each holds (or waits for) a PostgreSQL
advisory lock named after the service's schema, so extra replicas are warm standbys
and per-key order is kept. The relay sleeps on LISTEN/NOTIFY (the outbox trigger
notifies on insert) and polls as a fallback. Rows go out in rounds of at most one
record batch per partition, so nothing overtakes a batch the broker refused. A row
is marked sent only after Kafka acknowledged it (`acks=all`, idempotent producer); a
crash between the two publishes the row again, which consumers absorb through their
inbox. Rows an operator parked (`edvent-events outbox park`) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanKind,
    Status,
    StatusCode,
    set_span_in_context,
)
from prometheus_client import Counter, Gauge

from edvent_events import tracing
from edvent_events.connection import Kafka, client_kwargs
from edvent_events.envelope import build_headers
from edvent_events.outbox import MAX_MESSAGE_BYTES, notify_channel

logger = logging.getLogger("edvent.events.relay")

PUBLISHED = Counter("outbox_events_published_total", "Outbox rows published", ["schema"])
# With several workers per process (`serve --workers`), gauges combine as declared here.
LEADER = Gauge(
    "outbox_relay_leader",
    "1 while this relay holds the publish lock",
    ["schema"],
    multiprocess_mode="livemax",
)
FAILURES = Counter("outbox_publish_failures_total", "Failed publish attempts", ["schema"])
OLDEST_UNSENT = Gauge(
    "outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row still to publish (parked rows excluded); 0 when none",
    ["schema"],
    multiprocess_mode="livemax",
)
PRUNED = Counter(
    "outbox_relay_pruned_rows_total", "Rows deleted after their retention", ["schema", "table"]
)

Row = tuple[Any, ...]
_PARTITIONER = DefaultPartitioner()
# Positions in the relay's select.
ID, EVENT_ID, TOPIC, KEY, CE_TYPE, SOURCE, CE_TIME, DATA, TRACEPARENT = range(9)

# How often the leader measures the oldest unsent row (one index probe).
BACKLOG_GAUGE_INTERVAL = 5.0
# After `stop_timeout` the relay's task is cancelled; this long more for its clean-up.
CANCEL_GRACE = 5.0


def lock_key(schema: str) -> int:
    """A stable signed 64-bit advisory-lock key for the schema's relay."""
    digest = hashlib.sha256(f"edvent.outbox.{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def producer_settings(bootstrap_servers: Kafka, client_id: str) -> dict[str, Any]:
    """The producer settings the relay (and the benchmark's plain producer) use."""
    return client_kwargs(bootstrap_servers) | {
        "client_id": client_id,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 2,
        "max_batch_size": 256 * 1024,
        # `add_event` refuses events larger than this, so the relay never meets one.
        "max_request_size": MAX_MESSAGE_BYTES,
        "request_timeout_ms": 15000,
    }


_SQLALCHEMY_DRIVER = re.compile(r"^postgres(?:ql)?\+[a-z0-9_]+://")


def libpq_dsn(url: str) -> str:
    """A service's SQLAlchemy URL (`postgresql+psycopg://`, or an old `+asyncpg` one) as
    the plain `postgresql://` DSN libpq and psycopg connect with."""
    return _SQLALCHEMY_DRIVER.sub("postgresql://", url, count=1)


@dataclass
class RelaySettings:
    dsn: str  # plain postgresql:// DSN (see `libpq_dsn`), the service's own role
    schema: str
    bootstrap_servers: Kafka  # with the service's own Kafka credentials
    batch_size: int = 2000
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=7)
    # `prune()` also forgets old handled-event ids and old dead-letter records of the
    # service's consumer; the service's job runner calls it every `prune_interval` on
    # one replica at a time (edvent_platform.app).
    inbox_retention: timedelta = timedelta(days=30)
    dead_letter_retention: timedelta = timedelta(days=30)
    prune_interval: float = 300.0
    # Rows deleted per statement: short statements, and publishing goes on in between.
    prune_batch_size: int = 5000
    # Longest a single statement of the relay may run (PostgreSQL's statement_timeout;
    # the client gives up a few seconds later if the server does not answer at all).
    command_timeout: float = 30.0
    # How long `stop()` lets the relay finish what Kafka acknowledged before cancelling it.
    stop_timeout: float = 10.0
    standby_retry: float = 2.0
    max_backoff: float = 10.0


@dataclass
class _Round:
    """Rows handed to Kafka together, at most one record batch per partition."""

    rows: list[Row] = field(default_factory=list)
    partitions: list[TopicPartition] = field(default_factory=list)  # of each row
    futures: dict[TopicPartition, asyncio.Future[Any]] = field(default_factory=dict)
    failure: tuple[int, str] | None = None  # a row that could not be handed over
    # Each row's publish span (tracing on), ended when Kafka answers for its batch.
    spans: list[Span] = field(default_factory=list)

    @property
    def last_id(self) -> int:
        return int(self.rows[-1][ID]) if self.rows else 0


# RFC 3339 in UTC with microseconds, the same shape `envelope.rfc3339` gives.
CE_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

# What the relay and the operator commands accept as a schema name (it is spliced into SQL).
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class OutboxRelay:
    def __init__(self, settings: RelaySettings) -> None:
        if not SCHEMA_NAME.fullmatch(settings.schema):
            raise ValueError(f"not a plain schema name: {settings.schema!r}")
        self.settings = settings
        self.is_leader = False
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._partition_cache: dict[tuple[str, int, bytes], TopicPartition] = {}
        s = settings.schema
        self._select = (
            # Text conversions happen in PostgreSQL: cheaper than building Python objects
            # per row only to turn them back into strings. The condition matches the
            # partial index ix_outbox_unsent, so parked rows cost the scan nothing.
            f"SELECT id, event_id::text, topic, key, ce_type, source,"
            f" to_char(occurred_at AT TIME ZONE 'UTC', '{CE_TIME_FORMAT}'),"
            f" data::text, traceparent"
            f" FROM {s}.outbox WHERE sent_at IS NULL AND parked_at IS NULL AND id > %s"
            f" ORDER BY id LIMIT %s"
        )
        self._mark_sent = f"UPDATE {s}.outbox SET sent_at = now() WHERE id = ANY(%s::bigint[])"
        self._fail = f"UPDATE {s}.outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s"
        self._oldest = (
            f"SELECT extract(epoch FROM now() - created_at)::float8 FROM {s}.outbox"
            f" WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT 1"
        )

        # By ctid: one statement shape for tables with any primary key, and each batch
        # is a short statement of its own (autocommit), so no lock is held for long.
        self._prune = [
            (
                table,
                f"DELETE FROM {s}.{table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {s}.{table}"
                f" WHERE {column} < now() - %s::interval LIMIT %s))",
                retention,
            )
            for table, column, retention in (
                ("outbox", "sent_at", settings.retention),
                ("inbox", "handled_at", settings.inbox_retention),
                ("dead_letters", "dead_lettered_at", settings.dead_letter_retention),
            )
        ]

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background of the current event loop (a service's lifespan)."""
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.settings.schema}")

    async def stop(self) -> None:
        """Stop within about `stop_timeout` (+ `CANCEL_GRACE`) seconds, whatever it is doing.

        The relay first finishes what it can (marks what Kafka acknowledged); a relay
        stuck on a statement or on Kafka is then cancelled. Rows not marked sent are
        published again by the next leader.
        """
        self._stopping.set()
        task = self._task
        if task is None:
            return
        await asyncio.wait({task}, timeout=self.settings.stop_timeout)
        if not task.done():
            logger.warning(
                "relay for %s did not stop within %.0f s; cancelling it",
                self.settings.schema,
                self.settings.stop_timeout,
            )
            task.cancel()
            await asyncio.wait({task}, timeout=CANCEL_GRACE)
        if not task.done():
            logger.error("relay for %s is still cancelling; leaving it", self.settings.schema)
        elif not task.cancelled() and (error := task.exception()) is not None:
            logger.error("relay for %s ended with an error", self.settings.schema, exc_info=error)

    async def prune(self) -> int:
        """Delete what is past its retention in the outbox (sent rows), the inbox and the
        dead letters; the rows deleted.

        Batches of `prune_batch_size`, each a short statement of its own (autocommit) on
        a connection of its own, so no lock is held for long and publishing goes on.
        Cancelled between two batches (the job runner's stop), it has lost nothing: the
        next run deletes the rest. Any replica may run it; the service's job runner
        lets one at a time.
        """
        size = self.settings.prune_batch_size
        total = 0
        conn = await self._connect()
        try:
            for table, statement, retention in self._prune:
                deleted = 0
                while True:
                    count = (await self._query(conn, statement, (retention, size))).rowcount
                    deleted += count
                    PRUNED.labels(self.settings.schema, table).inc(count)
                    if count < size:
                        break
                if deleted:
                    logger.info("pruned %d rows of %s.%s", deleted, self.settings.schema, table)
                total += deleted
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=CANCEL_GRACE)
        return total

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._lead_when_possible()
                backoff = 0.5
            except (OSError, TimeoutError, psycopg.Error) as exc:
                # Includes a statement that ran past `command_timeout`.
                logger.warning(
                    "relay for %s: database problem, reconnecting: %s", self.settings.schema, exc
                )
            except Exception:
                # Whatever went wrong, a relay that silently stops is the worst outcome.
                logger.exception("relay for %s failed; restarting", self.settings.schema)
            finally:
                self._set_leader(False)
            if not self._stopping.is_set():
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)

    # -- the database connection -------------------------------------------------------

    async def _connect(self) -> psycopg.AsyncConnection[Row]:
        timeout = self.settings.command_timeout
        return await psycopg.AsyncConnection.connect(
            self.settings.dsn,
            autocommit=True,
            application_name=f"edvent-relay-{self.settings.schema}",
            connect_timeout=max(1, round(timeout)),
            # A statement stuck on a lock or a slow disk is cancelled by the server...
            options=f"-c statement_timeout={int(timeout * 1000)}",
            # ...and a server or network that went silent is noticed by TCP.
            keepalives=1,
            keepalives_idle=max(1, round(timeout / 3)),
            keepalives_interval=max(1, round(timeout / 6)),
            keepalives_count=3,
            tcp_user_timeout=int(timeout * 1000),
        )

    async def _query(
        self, conn: psycopg.AsyncConnection[Row], statement: str, params: tuple[Any, ...]
    ) -> psycopg.AsyncCursor[Row]:
        # Backstop for a server that never answers: the server's statement_timeout
        # normally fires first.
        async with asyncio.timeout(self.settings.command_timeout + CANCEL_GRACE):
            return await conn.execute(statement, params)  # type: ignore[arg-type]

    # -- leadership ----------------------------------------------------------------------

    async def _lead_when_possible(self) -> None:
        conn = await self._connect()
        try:
            key = lock_key(self.settings.schema)
            while not self._stopping.is_set():
                cursor = await self._query(conn, "SELECT pg_try_advisory_lock(%s)", (key,))
                if (await cursor.fetchone() or (False,))[0]:
                    break
                await self._sleep(self.settings.standby_retry)
            else:
                return
            self._set_leader(True)
            logger.info("relay for %s is publishing", self.settings.schema)
            await conn.execute(f"LISTEN {notify_channel(self.settings.schema)}")
            await self._publish_loop(conn)
        finally:
            # Closing the session releases the advisory lock for a standby.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=CANCEL_GRACE)

    def _set_leader(self, leader: bool) -> None:
        self.is_leader = leader
        LEADER.labels(self.settings.schema).set(1 if leader else 0)
        if not leader:
            OLDEST_UNSENT.labels(self.settings.schema).set(0)

    # -- publishing ----------------------------------------------------------------------

    async def _publish_loop(self, conn: psycopg.AsyncConnection[Row]) -> None:
        """Read, hand over and mark rows in rounds.

        A round is at most one record batch per partition, handed to Kafka only once
        the previous round is acknowledged: a batch the broker refuses can never be
        overtaken by a later batch of its partition, so per-key order holds whatever
        fails. Reading the next rows and marking the previous round overlap with the
        wait for acknowledgements.
        """
        producer: AIOKafkaProducer | None = None
        loop = asyncio.get_running_loop()
        next_gauge = loop.time()
        backoff = 0.2
        pending: deque[Row] = deque()  # read, not handed over yet
        inflight: _Round | None = None
        acked: list[int] = []  # acknowledged, to be marked sent
        # The highest id read. With nothing pending we scan from the start again, so a
        # row whose transaction committed late (lower id) is never skipped.
        cursor = 0
        # After a failure, rows up to here go one per partition per round, so the row
        # that fails is known exactly.
        isolate_through = 0
        try:
            while not self._stopping.is_set():
                if loop.time() >= next_gauge:
                    await self._measure_backlog(conn)
                    next_gauge = loop.time() + BACKLOG_GAUGE_INTERVAL
                if producer is None:
                    producer = await self._start_producer()
                    if producer is None:
                        await self._sleep(backoff)
                        backoff = min(backoff * 2, self.settings.max_backoff)
                        continue
                if inflight is not None:
                    done, failure = await self._acknowledged(inflight)
                    acked += done
                    if failure is not None:
                        await self._mark(conn, acked)
                        acked = []
                        isolate_through = max(isolate_through, inflight.last_id)
                        inflight = None
                        pending.clear()
                        cursor = 0
                        await self._record_failure(conn, *failure)
                        # A fresh producer gets a fresh idempotence epoch; the old one
                        # may be stuck on a sequence it can never complete.
                        await _stop_quietly(producer)
                        producer = None
                        await self._sleep(backoff)
                        backoff = min(backoff * 2, self.settings.max_backoff)
                        continue
                    inflight = None
                    backoff = 0.2
                if pending:
                    inflight = await self._hand_over(
                        producer, pending, one_per_partition=pending[0][ID] <= isolate_through
                    )
                marking, acked = acked, []
                if inflight is None and not pending:
                    cursor = 0
                if len(pending) < self.settings.batch_size:
                    # Forget notifies so far, before reading: one that arrives during
                    # the read is kept by psycopg and wakes the next wait at once.
                    await self._take_notifies(conn, timeout=0)
                    rows = await self._mark_and_read(conn, marking, cursor)
                    if rows:
                        pending.extend(rows)
                        cursor = rows[-1][ID]
                        continue
                else:
                    await self._mark(conn, marking)
                if inflight is None and not pending:
                    await self._wait_for_work(conn)
            # Stopping: what Kafka already acknowledged is marked, not sent twice.
            if inflight is not None:
                done, _ = await self._acknowledged(inflight)
                acked += done
            await self._mark(conn, acked)
        finally:
            if producer is not None:
                await _stop_quietly(producer)

    async def _start_producer(self) -> AIOKafkaProducer | None:
        producer = AIOKafkaProducer(
            **producer_settings(self.settings.bootstrap_servers, f"relay-{self.settings.schema}")
        )
        try:
            await producer.start()
        except Exception as exc:  # noqa: BLE001 - Kafka down: rows wait, we retry
            logger.warning("relay cannot reach Kafka yet: %s", exc)
            await _stop_quietly(producer)
            return None
        self._partition_cache.clear()
        return producer

    async def _hand_over(
        self, producer: AIOKafkaProducer, pending: deque[Row], *, one_per_partition: bool
    ) -> _Round:
        """Take rows off `pending` in id order into one batch per partition; send those.

        Stops at the first row that does not fit its partition's batch (it starts the
        next round) or cannot be handed over at all (the round's failure).
        """
        round_ = _Round()
        batches: dict[TopicPartition, BatchBuilder] = {}
        while pending:
            row = pending[0]
            key = row[KEY].encode()
            try:
                tp = await self._partition_of(producer, row[TOPIC], key)
            except Exception as exc:  # noqa: BLE001
                # Kafka's errors do not name the topic (a missing one says only
                # "UnknownTopicOrPartitionError"); operators read this in `last_error`.
                round_.failure = (row[ID], f"{type(exc).__name__}: {exc} (topic {row[TOPIC]})")
                break
            batch = batches.get(tp)
            if batch is not None and one_per_partition:
                break
            span = self._publish_span(row, tp) if tracing.enabled() else None
            headers = build_headers(
                event_id=row[EVENT_ID],
                source=row[SOURCE],
                ce_type=row[CE_TYPE],
                time=row[CE_TIME],
                subject=row[KEY],
                # Consumers continue the publish span (tracing on), else the row's trace.
                traceparent=row[TRACEPARENT]
                if span is None
                else tracing.traceparent_of(span.get_span_context()),
            )
            # JSON null is a tombstone's row (`Event.tombstone`): sent with no value.
            value = None if row[DATA] == "null" else row[DATA].encode()
            if len(value or b"") + len(key) > MAX_MESSAGE_BYTES:
                # Written before `add_event` checked sizes, or by hand: refused here,
                # so nothing behind it is handed over while it waits to be parked.
                round_.failure = (
                    row[ID],
                    f"MessageSizeTooLargeError: {len(value or b'') + len(key):,} bytes, more than"
                    f" max_request_size {MAX_MESSAGE_BYTES:,} (topic {row[TOPIC]})",
                )
                break
            fresh = batch is None
            if batch is None:
                batch = batches[tp] = producer.create_batch()
            if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                if fresh:  # an empty batch takes any first record; never loop on one
                    del batches[tp]
                    round_.failure = (row[ID], f"the record does not fit a batch ({tp})")
                break  # full: this row starts the next round
            pending.popleft()
            round_.rows.append(row)
            round_.partitions.append(tp)
            if span is not None:
                round_.spans.append(span)
        for tp, batch in batches.items():
            try:
                round_.futures[tp] = await producer.send_batch(
                    batch, tp.topic, partition=tp.partition
                )
            except Exception as exc:  # noqa: BLE001 - settled like a refused batch
                refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                refused.set_exception(exc)
                round_.futures[tp] = refused
        return round_

    async def _partition_of(
        self, producer: AIOKafkaProducer, topic: str, key: bytes
    ) -> TopicPartition:
        """The partition the producer itself would choose for this key (murmur2)."""
        partitions = await producer.partitions_for(topic)
        cache_key = (topic, len(partitions), key)
        tp = self._partition_cache.get(cache_key)
        if tp is None:
            if len(self._partition_cache) > 100_000:
                self._partition_cache.clear()
            partition = _PARTITIONER(key, sorted(partitions), None)
            tp = self._partition_cache[cache_key] = TopicPartition(topic, partition)
        return tp

    async def _acknowledged(self, round_: _Round) -> tuple[list[int], tuple[int, str] | None]:
        """Wait for a round's acks: the ids acknowledged, and the first row refused.

        Rows of the other partitions may be marked even past a refused row: a key's
        rows all share one partition, and after a failure the relay reads again from
        the first unsent row.
        """
        results = await asyncio.gather(*round_.futures.values(), return_exceptions=True)
        refused = {
            tp: result
            for tp, result in zip(round_.futures, results, strict=True)
            if isinstance(result, BaseException)
        }
        acked: list[int] = []
        failure = None
        for row, tp in zip(round_.rows, round_.partitions, strict=True):
            if tp not in refused:
                acked.append(row[ID])
            elif failure is None:
                error = refused[tp]
                failure = (row[ID], f"{type(error).__name__}: {error} (topic {tp.topic})")
        for span, tp in zip(round_.spans, round_.partitions, strict=False):
            if tp in refused:
                span.set_status(Status(StatusCode.ERROR, type(refused[tp]).__name__))
            span.end()
        return acked, failure or round_.failure

    def _publish_span(self, row: Row, tp: TopicPartition) -> Span:
        """A span for handing this row to Kafka, continuing the trace it was written in."""
        written_in = tracing.span_context_of(row[TRACEPARENT])
        return tracing.tracer("edvent_events.relay").start_span(
            f"{row[TOPIC]} publish",
            context=set_span_in_context(NonRecordingSpan(written_in)) if written_in else None,
            kind=SpanKind.PRODUCER,
            attributes=tracing.kafka_attributes(
                operation="publish",
                topic=row[TOPIC],
                key=row[KEY],
                event_id=str(row[EVENT_ID]),
                **{
                    "messaging.destination.partition.id": str(tp.partition),
                    "cloudevents.event_type": row[CE_TYPE],
                    "edvent.outbox.schema": self.settings.schema,
                },
            ),
        )

    async def _mark_and_read(
        self, conn: psycopg.AsyncConnection[Row], ids: list[int], cursor: int
    ) -> list[Row]:
        """Mark rows sent and read the next ones in one round trip (pipeline mode).

        The read follows the mark on the server, so a scan from the start never
        returns a row just acknowledged.
        """
        async with asyncio.timeout(self.settings.command_timeout + CANCEL_GRACE):
            async with conn.pipeline():
                if ids:
                    await conn.execute(self._mark_sent, (ids,))
                rows = await conn.execute(self._select, (cursor, self.settings.batch_size))
            result = await rows.fetchall()
        if ids:
            PUBLISHED.labels(self.settings.schema).inc(len(ids))
        return result

    async def _mark(self, conn: psycopg.AsyncConnection[Row], ids: list[int]) -> None:
        if ids:
            await self._query(conn, self._mark_sent, (ids,))
            PUBLISHED.labels(self.settings.schema).inc(len(ids))

    async def _record_failure(
        self, conn: psycopg.AsyncConnection[Row], row_id: int, error: str
    ) -> None:
        FAILURES.labels(self.settings.schema).inc()
        logger.warning(
            "publishing outbox row %s of %s failed (if it can never be sent, set it aside:"
            " edvent-events outbox park %s --reason ...): %s",
            row_id,
            self.settings.schema,
            row_id,
            error,
        )
        await self._query(conn, self._fail, (error[:1000], row_id))

    async def _measure_backlog(self, conn: psycopg.AsyncConnection[Row]) -> None:
        row = await (await self._query(conn, self._oldest, ())).fetchone()
        OLDEST_UNSENT.labels(self.settings.schema).set(row[0] if row else 0)

    async def _take_notifies(self, conn: psycopg.AsyncConnection[Row], *, timeout: float) -> None:
        """Consume the notifies that arrived (or, with a timeout, the next one)."""
        # Run to its end, never break out: the generator holds the connection's lock.
        async for _ in conn.notifies(timeout=timeout, stop_after=None if timeout == 0 else 1):
            pass

    async def _wait_for_work(self, conn: psycopg.AsyncConnection[Row]) -> None:
        """Until a notify (one may have come during the last read), the poll, or stop()."""
        waiting = asyncio.ensure_future(
            self._take_notifies(conn, timeout=self.settings.poll_interval)
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The connection is idle while waiting: cancelling leaves it usable.
            for task in (waiting, stopping):
                task.cancel()
            await asyncio.gather(waiting, stopping, return_exceptions=True)
        if waiting.done() and not waiting.cancelled():
            waiting.result()  # a lost connection surfaces here

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), timeout=10)
