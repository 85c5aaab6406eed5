"""Fixtures for the events library against the real PostgreSQL and Kafka."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from edvent_events.admin import ensure_topics
from edvent_events.contract import REGISTRY, Event, register
from edvent_events.outbox import create_outbox_and_inbox_sql
from edvent_localstack.postgres import PostgresServer, ServiceDatabase, provision_service
from edvent_localstack.pytest_plugin import drop_service


class ThingHappened(Event):
    """A test-only event; each test gets a subclass bound to its own topic."""

    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "thing_id"

    thing_id: str
    seq: int


def create_events_tables(postgres: PostgresServer, database: ServiceDatabase) -> None:
    dsn = postgres.dsn(user=database.role, password=database.password)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in create_outbox_and_inbox_sql(database.schema):
            conn.execute(statement)
        conn.execute(
            f"CREATE TABLE {database.schema}.effects"
            " (event_id uuid NOT NULL, thing_id text NOT NULL, seq int NOT NULL)"
        )


@pytest.fixture
def events_db(postgres: PostgresServer, scratch_schema: ServiceDatabase) -> ServiceDatabase:
    create_events_tables(postgres, scratch_schema)
    return scratch_schema


@pytest.fixture
def database_url(postgres: PostgresServer, events_db: ServiceDatabase) -> str:
    return postgres.service_url(events_db)


@pytest.fixture
async def sessions(
    database_url: str, events_db: ServiceDatabase
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(
        database_url,
        connect_args={"options": f"-c search_path={events_db.schema}"},
    )
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


@pytest.fixture
def other_events_db(postgres: PostgresServer) -> Iterator[ServiceDatabase]:
    """The schema of a second service, with its own inbox."""
    name = f"t_{secrets.token_hex(5)}"
    database = ServiceDatabase(role=name, schema=name, password=secrets.token_urlsafe(12))
    provision_service(postgres.admin_dsn(), database)
    try:
        create_events_tables(postgres, database)
        yield database
    finally:
        drop_service(postgres.admin_dsn(), database)


@pytest.fixture
async def other_sessions(
    postgres: PostgresServer, other_events_db: ServiceDatabase
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(postgres.service_url(other_events_db))
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
    await ensure_topics(kafka.admin, [topic], partitions=3)
    yield cls  # type: ignore[misc]
    REGISTRY.pop(cls.ce_type, None)
