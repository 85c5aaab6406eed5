"""Fixtures for the events library against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from edvent_events.admin import ensure_topics
from edvent_events.contract import REGISTRY, Event, register
from edvent_events.outbox import create_outbox_and_inbox_sql
from edvent_localstack.postgres import PostgresServer, ServiceDatabase


class ThingHappened(Event):
    """A test-only event; each test gets a subclass bound to its own topic."""

    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "thing_id"

    thing_id: str
    seq: int


@pytest.fixture
def events_db(postgres: PostgresServer, scratch_schema: ServiceDatabase) -> ServiceDatabase:
    dsn = postgres.dsn(user=scratch_schema.role, password=scratch_schema.password)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in create_outbox_and_inbox_sql(scratch_schema.schema):
            conn.execute(statement)
        conn.execute(
            f"CREATE TABLE {scratch_schema.schema}.effects"
            " (event_id uuid NOT NULL, thing_id text NOT NULL, seq int NOT NULL)"
        )
    return scratch_schema


@pytest.fixture
def database_url(postgres: PostgresServer, events_db: ServiceDatabase) -> str:
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture
async def sessions(
    database_url: str, events_db: ServiceDatabase
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(
        database_url,
        connect_args={"server_settings": {"search_path": events_db.schema}},
    )
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


@pytest.fixture
async def thing(unique: Callable[[str], str], kafka: Any) -> type[ThingHappened]:
    topic = unique("things")
    cls = type(
        f"ThingHappened_{topic.replace('-', '_')}",
        (ThingHappened,),
        {"topic": topic, "ce_type": f"edvent.tests.{topic}.v1", "__module__": __name__},
    )
    register(cls)
    await ensure_topics(kafka.bootstrap_servers, [topic], partitions=3)
    yield cls  # type: ignore[misc]
    REGISTRY.pop(cls.ce_type, None)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30, interval: float = 0.1
) -> None:
    """Poll until `check` holds: tests never sleep a fixed time waiting for an event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def read_topic(
    bootstrap_servers: str, topic: str, *, expected: int, timeout: float = 30
) -> list[Any]:
    """Every record of `topic` from the beginning, once at least `expected` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for part in batch.values():
                records.extend(part)
            if len(records) >= expected and not batch:
                break
    finally:
        await consumer.stop()
    return records
