"""learning-records against the real PostgreSQL, Kafka and a real Ralph LRS.

Ralph runs from its own environment (`edvent-stack install` makes it) on its
file-system backend, on a free port, once per session; the service's app runs with
its lifespan (consumer of the five topics, the sender job). Events are published on
the broker exactly as their owners would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_learning_records.config import Settings
from edvent_learning_records.domain.statements import Mapper
from edvent_learning_records.main import create_app
from edvent_localstack.process import free_port
from edvent_localstack.ralph import RalphServer

LRS_PASSWORD = "lrs-test-password"
BASE_URL = "http://edvent.test"


@pytest.fixture(scope="session")
def ralph(infra_dir: Path) -> Iterator[RalphServer]:
    server = RalphServer(
        data_dir=infra_dir / "ralph",
        port=free_port(),
        log_file=infra_dir / "ralph.log",
        password=LRS_PASSWORD,
        home_page=BASE_URL,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def make_settings(
    service_database_url: Callable[[str], str], kafka: Any, ralph: RalphServer
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": service_database_url("learning-records"),
            **kafka.service_settings("learning-records"),
            "lrs_url": ralph.url,
            "lrs_username": ralph.username,
            "lrs_password": LRS_PASSWORD,
            "platform_base_url": BASE_URL,
            "send_interval_seconds": 0.2,
            "retry_base_seconds": 0.2,
            "retry_max_seconds": 1,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def mapper() -> Mapper:
    return Mapper(BASE_URL)


class Events:
    """Publishes events as their owners would; returns each event's ce_id."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(self, event: Event) -> str:
        event_id = str(uuid.uuid4())
        message = encode(event, event_id=event_id)
        await self.producer.send_and_wait(
            message.topic, key=message.key, value=message.value, headers=message.headers
        )
        return event_id


@pytest.fixture
def events(producer: AIOKafkaProducer, app: FastAPI) -> Events:
    return Events(producer)


class Lrs:
    """The LRS as a data team reads it: GET /xAPI/statements with Basic auth."""

    def __init__(self, server: RalphServer) -> None:
        self.http = httpx.AsyncClient(
            base_url=server.url,
            auth=(server.username, LRS_PASSWORD),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10,
        )

    async def of_agent(self, agent: dict[str, Any]) -> list[dict[str, Any]]:
        answer = await self.http.get("/xAPI/statements", params={"agent": json.dumps(agent)})
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()["statements"]
        return found

    async def one(self, statement_id: uuid.UUID) -> dict[str, Any] | None:
        answer = await self.http.get("/xAPI/statements", params={"statementId": str(statement_id)})
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        found = answer.json()
        # Ralph's file-system backend answers a statementId query as a list.
        if "statements" in found:
            return found["statements"][0] if found["statements"] else None
        return dict(found)


@pytest.fixture
async def lrs(ralph: RalphServer) -> AsyncIterator[Lrs]:
    client = Lrs(ralph)
    try:
        yield client
    finally:
        await client.http.aclose()
