"""Small building blocks the events integration tests share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from edvent_events.connection import Kafka, client_kwargs
from edvent_events.consumer import ConsumerRunner, Handlers
from edvent_events.envelope import encode
from edvent_events.relay import OutboxRelay, RelaySettings, libpq_dsn

COMMAND = str(Path(sys.executable).parent / "edvent-events")


async def run_cli(kafka, *args: str) -> list[dict]:
    """`edvent-events ARGS` as an operator runs it; its JSON lines, once it succeeded."""
    process = await asyncio.create_subprocess_exec(
        COMMAND, "--bootstrap-servers", kafka.bootstrap_servers, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=cli_env(kafka),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def cli_env(kafka) -> dict[str, str]:
    """The admin's credentials, the way an operator hands them to `edvent-events`."""
    admin = kafka.admin
    return dict(os.environ) | {"KAFKA_USERNAME": admin.username, "KAFKA_PASSWORD": admin.password}


async def equals(value: Awaitable[Any], expected: Any) -> bool:
    """For `eventually(lambda: equals(effects(sessions), [...]))`."""
    return await value == expected


# -- the consumer side ------------------------------------------------------------------


async def record_effect(session, envelope) -> None:
    await session.execute(
        text("INSERT INTO effects (event_id, thing_id, seq) VALUES (:id, :thing, :seq)"),
        {"id": envelope.id, "thing": envelope.data.thing_id, "seq": envelope.data.seq},
    )


async def effects(sessions) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(text("SELECT thing_id, seq FROM effects ORDER BY seq"))
        return [(r[0], r[1]) for r in rows]


async def effect_count(sessions) -> int:
    return len(await effects(sessions))


async def send(bootstrap: Kafka, messages) -> None:
    producer = AIOKafkaProducer(**client_kwargs(bootstrap), acks="all")
    await producer.start()
    try:
        for topic, key, value, headers in messages:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def as_message(event, *, event_id: str | None = None):
    message = encode(event, event_id=event_id)
    return (message.topic, message.key, message.value, message.headers)


def handling(thing, handler) -> Handlers:
    """`handler` registered for the test's event type."""
    handlers = Handlers()
    handlers.on(thing)(handler)
    return handlers


def member(sessions, kafka, thing, handler, *, service: str, **overrides) -> ConsumerRunner:
    """A runner of `service`: several of them form one consumer group."""
    return ConsumerRunner(
        service=service,
        bootstrap_servers=kafka.admin,
        sessions=sessions,
        handlers=handling(thing, handler),
        **({"initial_backoff": 0.05, "max_backoff": 0.2} | overrides),
    )


def runner_for(sessions, kafka, thing, handler, unique, **overrides) -> ConsumerRunner:
    """A runner in a consumer group of its own."""
    return member(sessions, kafka, thing, handler, service=unique("svc"), **overrides)


# -- the relay side ---------------------------------------------------------------------


def relay_for(database_url: str, schema: str, bootstrap: Kafka, **overrides) -> OutboxRelay:
    return OutboxRelay(
        RelaySettings(
            dsn=libpq_dsn(database_url),
            schema=schema,
            bootstrap_servers=bootstrap,
            **({"poll_interval": 0.5, "standby_retry": 0.2} | overrides),
        )
    )


async def fetch_all(database_url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(
        libpq_dsn(database_url), autocommit=True
    ) as conn:
        return await (await conn.execute(query, params)).fetchall()


async def unsent(database_url: str, schema: str) -> int:
    """Rows still to publish (parked rows are not)."""
    rows = await fetch_all(
        database_url,
        f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL AND parked_at IS NULL",
    )
    return int(rows[0][0])


async def crash(runner: ConsumerRunner) -> None:
    """The member dies as under `kill -9`: no graceful stop, no offset commit."""
    assert runner._task is not None
    runner._task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner._task
    # Closing the clients only makes the group notice sooner; auto-commit is off, so
    # nothing is committed on the way out.
    for client in (runner._consumer, runner._producer):
        if client is not None:
            await client.stop()


async def committed_offsets(bootstrap: Kafka, group: str) -> dict[int, int]:
    """The group's committed offsets of its source topics, by partition."""
    admin = AIOKafkaAdminClient(**client_kwargs(bootstrap))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if ".retry." not in tp.topic}
