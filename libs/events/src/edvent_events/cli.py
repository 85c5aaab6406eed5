"""`edvent-events`: operator tools for platform engineers and data teams.

tail      print a topic's events, decoded, as JSON lines (--decrypt: personal fields too)
outbox    what waits in a service's outbox (unsent and parked rows); park/unpark a row
dlq       list the dead letters of a topic
redrive   re-send dead letters to the consumer that failed them (after a fix)
replay    move a service's consumer group back to a point in time
relay     run a service's outbox relay on its own
acls      set the principals' SCRAM passwords and the platform's ACLs (as the admin)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from psycopg.rows import dict_row

from edvent_events import pii
from edvent_events.acls import apply_acls, platform_acls, upsert_scram_users
from edvent_events.admin import ensure_topics
from edvent_events.connection import KafkaConnection, SecurityProtocol, client_kwargs
from edvent_events.consumer import DLQ_HEADERS
from edvent_events.envelope import DecodeError, decode, header_map
from edvent_events.outbox import notify_channel
from edvent_events.relay import (
    SCHEMA_NAME,
    OutboxRelay,
    RelaySettings,
    libpq_dsn,
    producer_settings,
)
from edvent_events.topics import retry_topic, split_dlq_topic


def _print(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str), flush=True)


def _headers_text(headers: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in header_map(headers).items()}


async def _drain(consumer: AIOKafkaConsumer, *, follow: bool, idle_ms: int = 2000) -> Any:
    """Yield records; without --follow stop once nothing new arrived for idle_ms."""
    while True:
        batch = await consumer.getmany(timeout_ms=idle_ms)
        if not batch and not follow:
            return
        for records in batch.values():
            for record in records:
                yield record


class _Keys:
    """The user keys from `identity.user-keys`, read again (at most every few seconds)
    when a record names a user not seen yet: a key newer than the last read."""

    REFRESH_SECONDS = 5.0

    def __init__(self, bootstrap_servers: KafkaConnection) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._keys: dict[UUID, bytes] = {}
        self._read_at = float("-inf")

    async def get(self, user_id: UUID) -> bytes | None:
        if user_id not in self._keys and time.monotonic() - self._read_at > self.REFRESH_SECONDS:
            self._keys = await pii.read_user_keys(self._bootstrap_servers)
            self._read_at = time.monotonic()
        return self._keys.get(user_id)


async def _decrypted(entry: dict[str, Any], keys: _Keys) -> None:
    """Open the entry's `enc:v1:` fields in place, or say why they stay sealed."""
    data = entry.get("data")
    if not isinstance(data, dict) or not any(
        isinstance(v, str) and pii.is_encrypted(v) for v in data.values()
    ):
        return
    try:
        user_id = UUID(str(entry["key"]))
    except ValueError:
        entry["sealed"] = "the record key is not a user id"
        return
    key = await keys.get(user_id)
    if key is None:
        entry["sealed"] = "no key on identity.user-keys (the user was erased)"
        return
    try:
        entry["data"] = pii.decrypt_fields(data, key=key, user_id=user_id)
    except pii.UndecryptableError as exc:
        entry["sealed"] = str(exc)


async def tail(args: argparse.Namespace) -> None:
    keys = _Keys(args.bootstrap_servers) if args.decrypt else None
    consumer = AIOKafkaConsumer(
        args.topic,
        **client_kwargs(args.bootstrap_servers),
        group_id=None,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async for record in _drain(consumer, follow=args.follow):
            entry: dict[str, Any] = {
                "partition": record.partition,
                "offset": record.offset,
                "key": record.key.decode(errors="replace") if record.key else None,
            }
            headers = _headers_text(record.headers)
            entry |= {
                "id": headers.get("ce_id"),
                "type": headers.get("ce_type"),
                "source": headers.get("ce_source"),
                "time": headers.get("ce_time"),
                "subject": headers.get("ce_subject"),
            }
            try:
                envelope = decode(record.headers, record.value)
                entry["data"] = envelope.data.model_dump(mode="json")
            except DecodeError as exc:
                # Still show what is there: a newer event type than this tool knows is
                # worth seeing, and the reason says why it did not validate.
                entry["problem"] = str(exc)
                try:
                    entry["data"] = json.loads(record.value or b"")
                except ValueError:
                    entry["raw"] = (record.value or b"").decode(errors="replace")[:2000]
            if keys is not None:
                await _decrypted(entry, keys)
            _print(entry)
    finally:
        await consumer.stop()


def _schema(name: str) -> str:
    if not SCHEMA_NAME.fullmatch(name):
        raise SystemExit(f"edvent-events: not a schema name: {name!r}")
    return name


async def outbox(args: argparse.Namespace) -> int:
    """List what waits (oldest first) and what is parked; or park / unpark one row."""
    schema = _schema(args.schema)
    async with await psycopg.AsyncConnection.connect(
        libpq_dsn(args.database_url), autocommit=True, row_factory=dict_row
    ) as conn:
        if args.action == "park":
            return await _park(conn, schema, args.id, args.reason)
        if args.action == "unpark":
            return await _unpark(conn, schema, args.id)
        waiting = await (
            await conn.execute(
                f"SELECT count(*) AS waiting, min(created_at) AS oldest,"
                f" max(attempts) AS max_attempts FROM {schema}.outbox"
                f" WHERE sent_at IS NULL AND parked_at IS NULL"
            )
        ).fetchone()
        parked = await (
            await conn.execute(
                f"SELECT count(*) AS parked FROM {schema}.outbox"
                f" WHERE sent_at IS NULL AND parked_at IS NOT NULL"
            )
        ).fetchone()
        _print({"schema": schema, **(waiting or {}), **(parked or {})})
        columns = "id, event_id, topic, key, ce_type, created_at, attempts, last_error"
        for row in await (
            await conn.execute(
                f"SELECT {columns} FROM {schema}.outbox"
                f" WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT %s",
                (args.limit,),
            )
        ).fetchall():
            _print(row)
        for row in await (
            await conn.execute(
                f"SELECT {columns}, parked_at, parked_reason FROM {schema}.outbox"
                f" WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT %s",
                (args.limit,),
            )
        ).fetchall():
            _print({"parked": True, **row})
    return 0


async def _park(conn: psycopg.AsyncConnection[Any], schema: str, row_id: int, reason: str) -> int:
    row = await (
        await conn.execute(
            f"UPDATE {schema}.outbox SET parked_at = now(), parked_reason = %s"
            f" WHERE id = %s AND sent_at IS NULL AND parked_at IS NULL"
            f" RETURNING id, event_id, topic, key, ce_type, attempts, last_error, parked_at",
            (reason, row_id),
        )
    ).fetchone()
    if row is None:
        print(f"edvent-events: no unsent, unparked outbox row {row_id}", file=sys.stderr)
        return 1
    _print({"parked": True, **row, "parked_reason": reason})
    return 0


async def _unpark(conn: psycopg.AsyncConnection[Any], schema: str, row_id: int) -> int:
    async with conn.transaction():
        row = await (
            await conn.execute(
                f"UPDATE {schema}.outbox SET parked_at = NULL, parked_reason = NULL"
                f" WHERE id = %s AND sent_at IS NULL AND parked_at IS NOT NULL"
                f" RETURNING id, event_id, topic, key, ce_type",
                (row_id,),
            )
        ).fetchone()
        # Wake the relay now rather than at its next poll.
        await conn.execute("SELECT pg_notify(%s, '')", (notify_channel(schema),))
    if row is None:
        print(f"edvent-events: no parked outbox row {row_id}", file=sys.stderr)
        return 1
    _print({"unparked": True, **row})
    return 0


async def dlq(args: argparse.Namespace) -> None:
    consumer = AIOKafkaConsumer(
        args.dlq_topic,
        **client_kwargs(args.bootstrap_servers),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async for record in _drain(consumer, follow=False):
            headers = _headers_text(record.headers)
            _print(
                {
                    "offset": record.offset,
                    "id": headers.get("ce_id"),
                    "type": headers.get("ce_type"),
                    "error": headers.get("x-error"),
                    "failed_at": headers.get("x-failed-at"),
                    "attempts": headers.get("x-attempts"),
                    "original": f"{headers.get('x-original-topic')}:"
                    f"{headers.get('x-original-partition')}@{headers.get('x-original-offset')}",
                }
            )
    finally:
        await consumer.stop()


async def redrive(args: argparse.Namespace) -> int:
    """Re-send each dead letter once, to the one consumer that dead-lettered it.

    The target is `<topic>.retry.<service>`, which only that service's consumer reads,
    so other subscribers of `<topic>` (other services, data teams) see nothing again.
    A consumer group remembers what was re-sent.
    """
    try:
        topic, service = split_dlq_topic(args.dlq_topic)
    except ValueError as exc:
        print(f"edvent-events: {exc}", file=sys.stderr)
        return 2
    target = retry_topic(topic, service)
    await ensure_topics(args.bootstrap_servers, [target])
    consumer = AIOKafkaConsumer(
        args.dlq_topic,
        **client_kwargs(args.bootstrap_servers),
        group_id=f"{args.dlq_topic}.redrive",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(**producer_settings(args.bootstrap_servers, "edvent-redrive"))
    await producer.start()
    await consumer.start()
    count = 0
    try:
        async for record in _drain(consumer, follow=False, idle_ms=3000):
            headers = [(k, v) for k, v in record.headers or () if k not in DLQ_HEADERS]
            await producer.send_and_wait(
                target, value=record.value, key=record.key, headers=headers
            )
            await consumer.commit(
                {TopicPartition(record.topic, record.partition): record.offset + 1}
            )
            count += 1
    finally:
        await consumer.stop()
        await producer.stop()
    _print({"redriven": count, "from": args.dlq_topic, "to": target})
    return 0


async def replay(args: argparse.Namespace) -> int:
    """Point the group's committed offsets at the first message at or after --to.

    The group must have no running members (stop the service first). With
    --forget-inbox, the service's inbox entries handled since then are deleted so the
    replayed events are applied again instead of being skipped as duplicates.
    """
    moment = datetime.fromisoformat(args.to.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    consumer = AIOKafkaConsumer(
        **client_kwargs(args.bootstrap_servers),
        group_id=args.group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(args.topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(args.topic) or set()
        tps = [TopicPartition(args.topic, p) for p in sorted(partitions)]
        if not tps:
            print(f"edvent-events: topic {args.topic} not found", file=sys.stderr)
            return 2
        consumer.assign(tps)
        found = await consumer.offsets_for_times({tp: int(moment.timestamp() * 1000) for tp in tps})
        ends = await consumer.end_offsets(tps)
        offsets = {
            tp: OffsetAndMetadata(found[tp].offset if found[tp] else ends[tp], "") for tp in tps
        }
        await consumer.commit(offsets)
        for tp, meta in offsets.items():
            _print(
                {
                    "group": args.group,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": meta.offset,
                }
            )
    finally:
        await consumer.stop()
    if args.forget_inbox:
        async with await psycopg.AsyncConnection.connect(
            libpq_dsn(args.forget_inbox), autocommit=True
        ) as conn:
            cursor = await conn.execute(
                "DELETE FROM inbox WHERE topic = %s AND handled_at >= %s", (args.topic, moment)
            )
            _print({"inbox": f"DELETE {cursor.rowcount}"})
    return 0


async def relay(args: argparse.Namespace) -> int:
    runner = OutboxRelay(
        RelaySettings(
            dsn=libpq_dsn(args.database_url),
            schema=args.schema,
            bootstrap_servers=args.bootstrap_servers,
            batch_size=args.batch_size,
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner.start()
    await stop.wait()
    await runner.stop()
    return 0


async def acls(args: argparse.Namespace) -> int:
    """Create or update every principal's SCRAM credential and grant the platform's ACLs.

    Passwords come from the environment only (never a flag, which `ps` shows):
    KAFKA_USER_<NAME>_PASSWORD, the name upper-cased with `-` as `_` (identity,
    content, assessment, ai-notes, data-team). A principal without a password keeps its
    credential and still gets its ACLs. Run as the admin principal; safe to repeat.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    users = {
        name: password
        for name in args.users
        if (password := os.environ.get(f"KAFKA_USER_{name.upper().replace('-', '_')}_PASSWORD"))
    }
    admin = AIOKafkaAdminClient(**client_kwargs(args.bootstrap_servers), request_timeout_ms=10_000)
    await admin.start()
    try:
        if users:
            await upsert_scram_users(admin, users)
        bindings = platform_acls(services=[u for u in args.users if u != "data-team"])
        await apply_acls(admin, bindings)
    finally:
        await admin.close()
    _print({"users": sorted(users), "acls": len(bindings)})
    return 0


def _connection(args: argparse.Namespace) -> KafkaConnection:
    protocol: SecurityProtocol = args.security_protocol or (
        "SASL_PLAINTEXT" if args.username else "PLAINTEXT"
    )
    return KafkaConnection(
        bootstrap_servers=args.bootstrap_servers,
        security_protocol=protocol,
        sasl_mechanism=args.sasl_mechanism,
        username=args.username or None,
        # From the environment only: a flag's value would show in `ps`.
        password=os.environ.get("KAFKA_PASSWORD") or None,
        ssl_cafile=args.ssl_cafile or None,
    )


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="edvent-events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Credentials: --username (or KAFKA_USERNAME) and the password in KAFKA_PASSWORD.",
    )
    parser.add_argument(
        "--bootstrap-servers", default=env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--security-protocol",
        default=env("KAFKA_SECURITY_PROTOCOL"),
        help="default: SASL_PLAINTEXT with a username, PLAINTEXT without",
        choices=["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"],
    )
    parser.add_argument(
        "--sasl-mechanism",
        default=env("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        choices=["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"],
    )
    parser.add_argument("--username", default=env("KAFKA_USERNAME", ""))
    parser.add_argument("--ssl-cafile", default=env("KAFKA_SSL_CAFILE", ""))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tail", help="print a topic's events, decoded")
    p.add_argument("topic")
    p.add_argument("--from-beginning", action="store_true")
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new events")
    p.add_argument(
        "--decrypt",
        action="store_true",
        help="open encrypted personal fields with the keys on identity.user-keys",
    )
    p.set_defaults(func=tail)

    # --database-url/--schema may come before or after park/unpark.
    service_db = argparse.ArgumentParser(add_help=False)
    service_db.add_argument(
        "--database-url", default=argparse.SUPPRESS, help="the service's database URL"
    )
    service_db.add_argument("--schema", default=argparse.SUPPRESS, help="the service's schema")
    p = sub.add_parser(
        "outbox", parents=[service_db], help="list unsent and parked outbox rows of a service"
    )
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=outbox, action="list")
    actions = p.add_subparsers(dest="action")
    a = actions.add_parser(
        "park", parents=[service_db], help="set a row aside: kept and listed, not published"
    )
    a.add_argument("id", type=int, help="the row's id, as `outbox` lists it")
    a.add_argument("--reason", required=True, help="why, for whoever looks next")
    a = actions.add_parser(
        "unpark", parents=[service_db], help="publish a parked row again (after later rows)"
    )
    a.add_argument("id", type=int)

    p = sub.add_parser("dlq", help="list dead letters, e.g. content.lessons.dlq.ai-notes")
    p.add_argument("dlq_topic")
    p.set_defaults(func=dlq)

    p = sub.add_parser("redrive", help="re-send dead letters to the one service that failed them")
    p.add_argument("dlq_topic")
    p.set_defaults(func=redrive)

    p = sub.add_parser("replay", help="reset a consumer group's offsets to a time")
    p.add_argument("--group", required=True, help="the consuming service, e.g. ai-notes")
    p.add_argument("--topic", required=True)
    p.add_argument("--to", required=True, help="RFC 3339 time, e.g. 2026-11-25T08:00:00Z")
    p.add_argument(
        "--forget-inbox",
        metavar="DATABASE_URL",
        help="also forget inbox entries since then, so events apply again",
    )
    p.set_defaults(func=replay)

    p = sub.add_parser(
        "relay",
        help="run a service's outbox relay in the foreground (publishing only: pruning is"
        " the service's job, `outbox-prune`)",
    )
    p.add_argument("--database-url", required=True)
    p.add_argument("--schema", required=True)
    p.add_argument("--batch-size", type=int, default=1000)
    p.set_defaults(func=relay)

    p = sub.add_parser("acls", help="set the principals' passwords and the platform's ACLs")
    p.add_argument(
        "--users",
        nargs="+",
        default=["identity", "content", "assessment", "ai-notes", "data-team"],
    )
    p.set_defaults(func=acls)

    args = parser.parse_args(argv)
    try:
        args.bootstrap_servers = _connection(args)
    except ValueError as exc:
        parser.error(f"{exc} (--username or KAFKA_USERNAME, and KAFKA_PASSWORD)")
    if args.func is outbox:
        missing = [o for o in ("database_url", "schema") if not hasattr(args, o)]
        if missing:
            parser.error(
                "outbox needs " + " and ".join(f"--{o.replace('_', '-')}" for o in missing)
            )
    result = asyncio.run(args.func(args))
    sys.exit(result or 0)


if __name__ == "__main__":
    main()
