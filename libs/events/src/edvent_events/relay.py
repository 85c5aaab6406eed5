"""The outbox relay: publishes a service's outbox rows to Kafka, in order, at least once.

One relay per service publishes at a time: each holds (or waits for) a PostgreSQL
advisory lock named after the service's schema, so extra replicas are warm standbys
and per-key order is kept. The relay sleeps on LISTEN/NOTIFY (the outbox trigger
notifies on insert) and polls as a fallback. A row is marked sent only after Kafka
acknowledged it (`acks=all`, idempotent producer); a crash between the two publishes
the row again, which consumers absorb through their inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from edvent_events.envelope import build_headers
from edvent_events.outbox import notify_channel

logger = logging.getLogger("edvent.events.relay")

PUBLISHED = Counter("outbox_events_published_total", "Outbox rows published", ["schema"])
LEADER = Gauge("outbox_relay_leader", "1 while this relay holds the publish lock", ["schema"])
FAILURES = Counter("outbox_publish_failures_total", "Failed publish attempts", ["schema"])


def lock_key(schema: str) -> int:
    """A stable signed 64-bit advisory-lock key for the schema's relay."""
    digest = hashlib.sha256(f"edvent.outbox.{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def producer_settings(bootstrap_servers: str, client_id: str) -> dict[str, Any]:
    """The producer settings the relay (and the benchmark's plain producer) use."""
    return {
        "bootstrap_servers": bootstrap_servers,
        "client_id": client_id,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 2,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 15000,
    }


@dataclass
class RelaySettings:
    dsn: str  # plain postgresql:// DSN (asyncpg), the service's own role
    schema: str
    bootstrap_servers: str
    batch_size: int = 2000
    max_inflight_batches: int = 3
    poll_interval: float = 1.0
    retention: timedelta = timedelta(days=7)
    # The relay is the one per-service worker, so it also forgets old handled-event ids.
    inbox_retention: timedelta = timedelta(days=30)
    prune_interval: float = 300.0
    standby_retry: float = 2.0
    max_backoff: float = 10.0


@dataclass
class _Batch:
    rows: list[asyncpg.Record]
    futures: list[asyncio.Future[Any]]
    failure: tuple[int, str] | None = None


# RFC 3339 in UTC with microseconds, the same shape `envelope.rfc3339` gives.
CE_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URLs name the driver (`postgresql+asyncpg://`); asyncpg wants the plain one."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class OutboxRelay:
    def __init__(self, settings: RelaySettings) -> None:
        if not _SCHEMA_NAME.match(settings.schema):
            raise ValueError(f"not a plain schema name: {settings.schema!r}")
        self.settings = settings
        self.is_leader = False
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        s = settings.schema
        self._select = (
            # Text conversions happen in PostgreSQL: cheaper than building Python objects
            # per row only to turn them back into strings.
            f"SELECT id, event_id::text AS event_id, topic, key, ce_type, source,"
            f" to_char(occurred_at AT TIME ZONE 'UTC', '{CE_TIME_FORMAT}') AS ce_time,"
            f" data::text AS data, traceparent"
            f" FROM {s}.outbox WHERE sent_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
        )
        self._mark = f"UPDATE {s}.outbox SET sent_at = now() WHERE id = ANY($1::bigint[])"
        self._fail = f"UPDATE {s}.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
        self._prune = (
            f"DELETE FROM {s}.outbox WHERE id IN (SELECT id FROM {s}.outbox"
            f" WHERE sent_at < now() - $1::interval ORDER BY sent_at LIMIT 10000)"
        )
        self._prune_inbox = (
            f"DELETE FROM {s}.inbox WHERE event_id IN (SELECT event_id FROM {s}.inbox"
            f" WHERE handled_at < now() - $1::interval LIMIT 10000)"
        )

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background of the current event loop (a service's lifespan)."""
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.settings.schema}")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._lead_when_possible()
                backoff = 0.5
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("relay lost its database connection: %s", exc)
            except Exception:
                # Whatever went wrong, a relay that silently stops is the worst outcome.
                logger.exception("relay for %s failed; restarting", self.settings.schema)
            finally:
                self._set_leader(False)
            if not self._stopping.is_set():
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)

    # -- leadership ----------------------------------------------------------------------

    async def _lead_when_possible(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.settings.dsn)
        try:
            key = lock_key(self.settings.schema)
            while not self._stopping.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                    break
                await self._sleep(self.settings.standby_retry)
            else:
                return
            self._set_leader(True)
            logger.info("relay for %s is publishing", self.settings.schema)
            await conn.add_listener(notify_channel(self.settings.schema), self._on_notify)
            await self._publish_loop(conn)
        finally:
            # Closing the session releases the advisory lock for a standby.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    def _set_leader(self, leader: bool) -> None:
        self.is_leader = leader
        LEADER.labels(self.settings.schema).set(1 if leader else 0)

    # -- publishing ----------------------------------------------------------------------

    async def _publish_loop(self, conn: asyncpg.Connection) -> None:
        """Fetch, send and mark rows, keeping a few batches in flight.

        While one batch waits for its acknowledgements the next is already read and
        handed to the producer, so the database and Kafka round trips overlap.
        Batches are settled strictly in order; the first failure discards everything
        after it (it is sent again, in order, once a fresh producer is up).
        """
        producer: AIOKafkaProducer | None = None
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        backoff = 0.2
        inflight: deque[_Batch] = deque()
        # Rows up to `cursor` are in flight. With nothing in flight we scan from the
        # start, so a row whose transaction committed late (lower id) is never skipped.
        cursor = 0
        try:
            while not self._stopping.is_set():
                if loop.time() >= next_prune:
                    await self._prune_sent(conn)
                    next_prune = loop.time() + self.settings.prune_interval
                if producer is None:
                    producer = await self._start_producer()
                    if producer is None:
                        await self._sleep(backoff)
                        backoff = min(backoff * 2, self.settings.max_backoff)
                        continue
                # Nothing is read past a row the producer refused: rows behind it must
                # not overtake it while the batches before it are settled.
                refused = bool(inflight) and inflight[-1].failure is not None
                if len(inflight) < self.settings.max_inflight_batches and not refused:
                    if not inflight:
                        # Reset before the read, not after it: the notify of a row that
                        # committed late while a batch settled may already be consumed.
                        cursor = 0
                    # Clear before reading, so a notify that arrives during the read wakes us.
                    self._wake.clear()
                    rows = await conn.fetch(self._select, cursor, self.settings.batch_size)
                    if rows:
                        batch = await self._enqueue(producer, rows)
                        inflight.append(batch)
                        cursor = rows[-1]["id"]
                        if batch.failure is None:
                            continue
                if not inflight:
                    await self._wait_for_work()
                    continue
                failure = await self._settle(conn, inflight.popleft())
                if failure is None:
                    backoff = 0.2
                    continue
                for later in inflight:
                    await asyncio.gather(*later.futures, return_exceptions=True)
                inflight.clear()
                cursor = 0
                failed_id, error = failure
                FAILURES.labels(self.settings.schema).inc()
                logger.warning("publishing outbox row %s failed: %s", failed_id, error)
                await conn.execute(self._fail, failed_id, error[:1000])
                # A fresh producer gets a fresh idempotence epoch; the old one may be
                # stuck on a sequence it can never complete.
                await _stop_quietly(producer)
                producer = None
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)
            # Stopping: what Kafka already acknowledged is marked, not sent twice.
            while inflight:
                if await self._settle(conn, inflight.popleft()) is not None:
                    break
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
        return producer

    async def _enqueue(self, producer: AIOKafkaProducer, rows: list[asyncpg.Record]) -> _Batch:
        """Hand rows to the producer in id order; stops at the first that cannot be."""
        batch = _Batch(rows=rows, futures=[])
        for row in rows:
            headers = build_headers(
                event_id=row["event_id"],
                source=row["source"],
                ce_type=row["ce_type"],
                time=row["ce_time"],
                subject=row["key"],
                traceparent=row["traceparent"],
            )
            try:
                batch.futures.append(
                    await producer.send(
                        row["topic"],
                        value=row["data"].encode(),
                        key=row["key"].encode(),
                        headers=headers,
                    )
                )
            except Exception as exc:  # noqa: BLE001
                # Kafka's errors do not name the topic (a missing one says only
                # "UnknownTopicOrPartitionError"); operators read this in `last_error`.
                batch.failure = (row["id"], f"{type(exc).__name__}: {exc} (topic {row['topic']})")
                break
        return batch

    async def _settle(self, conn: asyncpg.Connection, batch: _Batch) -> tuple[int, str] | None:
        """Wait for a batch's acks and mark the acknowledged prefix sent.

        Only the prefix before the first failure is marked, so a retry resends from
        there on and per-key order holds (later rows may be published twice, never
        skipped).
        """
        results = await asyncio.gather(*batch.futures, return_exceptions=True)
        sent: list[int] = []
        failure = batch.failure
        for row, result in zip(batch.rows, results, strict=False):
            if isinstance(result, BaseException):
                failure = (row["id"], f"{type(result).__name__}: {result}")
                break
            sent.append(row["id"])
        if sent:
            await conn.execute(self._mark, sent)
            PUBLISHED.labels(self.settings.schema).inc(len(sent))
        return failure

    async def _prune_sent(self, conn: asyncpg.Connection) -> None:
        deleted = await conn.execute(self._prune, self.settings.retention)
        if deleted != "DELETE 0":
            logger.info("pruned sent outbox rows: %s", deleted)
        forgotten = await conn.execute(self._prune_inbox, self.settings.inbox_retention)
        if forgotten != "DELETE 0":
            logger.info("pruned old inbox entries: %s", forgotten)

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), timeout=10)
