"""pytest fixtures that start the real infrastructure once per test session.

Registered through the `pytest11` entry point of edvent-localstack, so every test
suite in the workspace (services, libs, tests-e2e) gets the same fixtures. Each
piece starts only when a test asks for it, on free ports, in a temporary directory,
and stops when the session ends. A piece that cannot start fails the run with the
reason; nothing is skipped silently.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
from psycopg import sql

from edvent_localstack.postgres import (
    PostgresServer,
    ServiceDatabase,
    provision_service,
    service_database,
)
from edvent_localstack.process import free_port, free_ports
from edvent_localstack.services import SERVICES

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from edvent_events.connection import Kafka
    from edvent_localstack.kafka import KafkaBroker
    from edvent_localstack.mailpit import MailpitServer
    from edvent_localstack.s3 import S3Server
    from edvent_localstack.testing import Identity, RunningIdentity


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    # Not under pytest's own temp root: pytest resets that to mode 0700 whenever a
    # session starts, which would lock out PostgreSQL's unprivileged user (root runs).
    path = Path(tempfile.mkdtemp(prefix="edvent-infra-"))
    try:
        yield path
    finally:
        if not os.environ.get("EDVENT_KEEP_INFRA"):
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(infra_dir: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(
        data_dir=infra_dir / "postgres",
        port=free_port(),
        log_file=infra_dir / "postgres.log",
        durable=False,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka(infra_dir: Path) -> Iterator[KafkaBroker]:
    """The broker with authentication and ACLs on: connect with `kafka.admin` (a super
    user, for tests' own topics), `kafka.connection("content")` (a service's principal,
    what its settings get from `kafka.service_settings("content")`) or
    `kafka.connection("data-team")`; `kafka.client_kwargs(user)` for a raw aiokafka client."""
    from edvent_localstack.kafka import KafkaBroker

    port, controller_port = free_ports(2)
    broker = KafkaBroker(
        data_dir=infra_dir / "kafka",
        port=port,
        controller_port=controller_port,
        log_file=infra_dir / "kafka.log",
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
async def producer(kafka: KafkaBroker) -> AsyncIterator[AIOKafkaProducer]:
    """A raw producer as the broker's admin, for a test that publishes an event exactly
    as its producing service would (`edvent_events.envelope.encode`). A suite that must
    publish as a service's principal defines its own."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**kafka.client_kwargs())
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
def s3(infra_dir: Path) -> Iterator[S3Server]:
    from edvent_localstack.s3 import S3Server

    server = S3Server(data_dir=infra_dir / "s3", port=free_port(), log_file=infra_dir / "s3.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mailpit(infra_dir: Path) -> Iterator[MailpitServer]:
    """The mail sink (SMTP in, HTTP API out) on free ports; read it with
    `edvent_localstack.mailpit.MailpitClient(mailpit.url)`."""
    from edvent_localstack.mailpit import MailpitServer

    smtp_port, http_port = free_ports(2)
    server = MailpitServer(
        data_dir=infra_dir / "mailpit",
        smtp_port=smtp_port,
        http_port=http_port,
        log_file=infra_dir / "mailpit.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names that no other test uses: topics, consumer groups, buckets, emails."""

    def make(prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    return make


@pytest.fixture
def scratch_schema(postgres: PostgresServer) -> Iterator[ServiceDatabase]:
    """A fresh schema owned by a fresh login role, dropped after the test."""
    name = f"t_{secrets.token_hex(5)}"
    database = ServiceDatabase(role=name, schema=name, password=secrets.token_urlsafe(12))
    provision_service(postgres.admin_dsn(), database)
    try:
        yield database
    finally:
        drop_service(postgres.admin_dsn(), database)


def drop_service(admin_dsn: str, database: ServiceDatabase) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(database.schema))
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(database.role)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(database.role)))


def truncate_schema(admin_dsn: str, schema: str, *, keep: tuple[str, ...] = ()) -> None:
    """Empty every table of a schema (except `keep`), for a clean state between tests."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
            if row[0] not in keep
        ]
        if tables:
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
                )
            )


@pytest.fixture(scope="session")
def provisioned(postgres: PostgresServer) -> Callable[[str], ServiceDatabase]:
    """`get("identity")` → that service's real role and schema, provisioned once."""
    databases: dict[str, ServiceDatabase] = {}

    def get(service: str) -> ServiceDatabase:
        if service not in databases:
            databases[service] = service_database(service)
            postgres.provision(databases[service])
        return databases[service]

    return get


@pytest.fixture(scope="session")
def service_database_url(
    postgres: PostgresServer, provisioned: Callable[[str], ServiceDatabase]
) -> Callable[[str], str]:
    """`get("identity")` → the SQLAlchemy URL of that service's real schema, migrated.

    The schema and roles are the real ones (`identity`, `identity_migrator`, ...) so the
    migrations are tested as deployed: run by the migrator, the URL is the runtime
    role's (DML only). Each is migrated once per session.
    """
    urls: dict[str, str] = {}

    def get(service: str) -> str:
        if service not in urls:
            database = provisioned(service)
            SERVICES[service].migrate(postgres.migrator_url(database))
            urls[service] = postgres.service_url(database)
        return urls[service]

    return get


@pytest.fixture(scope="session")
def admin_dsn(postgres: PostgresServer) -> str:
    return str(postgres.admin_dsn())


@pytest.fixture(name="sql")
def sql_fixture(admin_dsn: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one statement as the superuser (to look behind the API) and return its rows."""

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture(scope="session")
async def identity_server(
    service_database_url: Callable[[str], str], kafka: KafkaBroker
) -> AsyncIterator[RunningIdentity]:
    """identity's real app on a real port, for a service that verifies its tokens."""
    from edvent_localstack.testing import running_identity

    async with running_identity(
        database_url=service_database_url("identity"),
        kafka=kafka.service_settings("identity"),
    ) as server:
        yield server


@pytest.fixture(scope="session")
async def identity(identity_server: RunningIdentity) -> AsyncIterator[Identity]:
    """Accounts made through the running identity (its own tests mean its app state)."""
    from edvent_localstack.testing import Identity

    accounts = Identity(identity_server)
    try:
        yield accounts
    finally:
        await accounts.http.aclose()


@asynccontextmanager
async def app_client(
    app: FastAPI, *, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running (relay, consumers) and an HTTP client on it."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
    ):
        yield client


async def assert_operational(client: httpx.AsyncClient, *, openapi_paths: list[str]) -> None:
    """The operational contract every service keeps (DESIGN.md, "Operations")."""
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text
    for path in openapi_paths:
        document = await client.get(path)
        assert document.status_code == 200
        assert document.json()["openapi"].startswith("3.")
    missing = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "abc-123"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["x-request-id"] == "abc-123"


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], *, timeout: float = 30, interval: float = 0.05
) -> None:
    """Poll until `check` holds: tests never sleep a fixed time waiting for an event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def read_topic(
    bootstrap_servers: Kafka,
    topic: str,
    *,
    expected: int,
    timeout: float = 30,
    where: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """The records of `topic` from the beginning (those `where` accepts, if given),
    once at least `expected` of them arrived and nothing more is coming, or at the
    deadline."""
    from aiokafka import AIOKafkaConsumer

    from edvent_events.connection import client_kwargs

    consumer = AIOKafkaConsumer(
        topic,
        **client_kwargs(bootstrap_servers),
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
                records.extend(r for r in part if where is None or where(r))
            if len(records) >= expected and not batch:
                break
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test: the spans of the outbox, the relay and the consumers
    (`edvent_events.tracing`) are recorded here, finished ones as they end."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from edvent_events import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        tracing.use_tracer_provider(None)
        provider.shutdown()
