"""What failed decides: the consumer's own database waits, the handler's own work counts.

A PostgreSQL restart must not dead-letter anything (the message is fine, the
consumer's database was away), while a handler whose own outside call keeps failing
(`OSError`, `TimeoutError`, the same exception types a lost database connection can
raise) must be dead-lettered after its attempts, not retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from edvent_events.outbox import create_outbox_and_inbox_sql
from edvent_events.topics import dlq_topic
from edvent_localstack.postgres import PostgresServer, ServiceDatabase, provision_service
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import as_message, effect_count, effects, equals, record_effect, runner_for, send

pytestmark = pytest.mark.integration


@pytest.fixture
def own_postgres() -> Iterator[tuple[PostgresServer, ServiceDatabase]]:
    """A PostgreSQL of this test alone, so restarting it disturbs no other test."""
    # Not under pytest's temp root: the server runs as an unprivileged user under root.
    path = Path(tempfile.mkdtemp(prefix="edvent-pg-restart-"))
    server = PostgresServer(
        data_dir=path / "pg", port=free_port(), log_file=path / "pg.log", durable=False
    )
    server.start()
    name = f"t_{secrets.token_hex(4)}"
    database = ServiceDatabase(role=name, schema=name, password=secrets.token_urlsafe(12))
    provision_service(server.admin_dsn(), database)
    with psycopg.connect(
        server.dsn(user=database.role, password=database.password), autocommit=True
    ) as conn:
        for statement in create_outbox_and_inbox_sql(database.schema):
            conn.execute(statement)
        conn.execute(
            f"CREATE TABLE {database.schema}.effects"
            " (event_id uuid NOT NULL, thing_id text NOT NULL, seq int NOT NULL)"
        )
    try:
        yield server, database
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def sessions_on(
    server: PostgresServer, database: ServiceDatabase
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # The role's search_path is its schema, so no driver-specific connect arguments.
    engine = create_async_engine(
        f"postgresql+psycopg://{database.role}:{database.password}@127.0.0.1:{server.port}/edvent",
        pool_size=3,
    )
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def test_a_database_restart_dead_letters_nothing_and_applies_each_event_once(
    own_postgres, kafka, thing, unique
):
    server, database = own_postgres

    async def slow(session, envelope) -> None:
        await record_effect(session, envelope)
        await asyncio.sleep(0.05)  # a transaction is open most of the time

    count = 40
    await send(
        kafka.admin,
        [as_message(thing(thing_id=f"p{s % 4}", seq=s)) for s in range(count)],
    )
    async with sessions_on(server, database) as sessions:
        # One attempt only: a single failure counted against the message dead-letters it.
        runner = runner_for(sessions, kafka, thing, slow, unique, max_attempts=1, probe_timeout=1.0)
        await runner.start()
        try:
            await eventually(lambda: _at_least(effect_count(sessions), 5), timeout=60)
            await asyncio.to_thread(server.stop)
            await asyncio.sleep(2)  # how long the outage lasts, not a wait for an event
            await asyncio.to_thread(server.start)
            await eventually(lambda: equals(effect_count(sessions), count), timeout=90)
        finally:
            await runner.stop()
        applied = await effects(sessions)
    assert sorted(seq for _, seq in applied) == list(range(count))  # each exactly once
    dead = await read_topic(
        kafka.admin, dlq_topic(thing.topic, runner.service), expected=0, timeout=3
    )
    assert dead == []


async def _at_least(value, expected: int) -> bool:
    return await value >= expected


@pytest.fixture
async def stopped_dependency() -> int:
    """The port of an outside service (think S3) that was running and has stopped."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


@pytest.fixture
async def silent_dependency() -> AsyncIterator[int]:
    """The port of an outside service that accepts connections and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_handler_whose_own_calls_fail_with_os_and_timeout_errors_is_dead_lettered(
    sessions, kafka, thing, unique, stopped_dependency, silent_dependency
):
    async def calls_out(session, envelope) -> None:
        if envelope.data.seq == 1:
            # ConnectionRefusedError, an OSError, from the handler's own call.
            await asyncio.open_connection("127.0.0.1", stopped_dependency)
        if envelope.data.seq == 2:
            reader, writer = await asyncio.open_connection("127.0.0.1", silent_dependency)
            try:
                async with asyncio.timeout(0.2):  # its own client's read timeout
                    await reader.read(1)
            finally:
                writer.close()
        await record_effect(session, envelope)

    await send(
        kafka.admin,
        [as_message(thing(thing_id="x", seq=s)) for s in (1, 2, 3)],
    )
    runner = runner_for(sessions, kafka, thing, calls_out, unique, max_attempts=3)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("x", 3)]), timeout=60)
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=2)
    finally:
        await runner.stop()
    errors = [dict(d.headers)["x-error"] for d in dead]
    assert len(errors) == 2
    assert errors[0].startswith(b"ConnectionRefusedError")
    assert errors[1].startswith(b"TimeoutError")
    assert [dict(d.headers)["x-attempts"] for d in dead] == [b"3", b"3"]
