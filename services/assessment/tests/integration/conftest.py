"""assessment against the real PostgreSQL and Kafka, with identity really running.

identity runs as its real app on a real port (uvicorn, in this process), so
assessment verifies every token through identity's JWKS endpoint over HTTP. One
assessment app per session with its lifespan running (relay, consumer of
identity.users, content.courses and its own assessment.attempts, sweeper). Courses
reach it as content would send them: CourseCreated events on the real broker. Every
test starts with no exams or attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from edvent_assessment.config import Settings
from edvent_assessment.main import create_app
from edvent_events.catalog.content import CourseCreated
from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_identity.config import Settings as IdentitySettings
from edvent_identity.main import create_app as create_identity_app
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import eventually, truncate_schema
from edvent_localstack.services import SERVICES

PASSWORD = "correct horse battery staple"
FAST_ARGON2 = {"argon2_time_cost": 2, "argon2_memory_kib": 19_456, "argon2_parallelism": 1}


@dataclass
class RunningIdentity:
    url: str
    database_url: str
    env: dict[str, str]


@pytest.fixture(scope="session")
async def identity_server(
    service_database_url: Callable[[str], str], kafka: Any
) -> AsyncIterator[RunningIdentity]:
    database_url = service_database_url("identity")
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka.bootstrap_servers,
        **FAST_ARGON2,
        "access_token_ttl_seconds": 3600,
        "login_max_failures_per_client": 1000,
    }
    app = create_identity_app(IdentitySettings(**values))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("identity stopped while starting")
        await asyncio.sleep(0.05)
    env = dict(os.environ)
    env.update({f"IDENTITY_{name.upper()}": str(value) for name, value in FAST_ARGON2.items()})
    try:
        yield RunningIdentity(url=f"http://127.0.0.1:{port}", database_url=database_url, env=env)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture(scope="session")
def make_settings(
    service_database_url: Callable[[str], str], kafka: Any, identity_server: RunningIdentity
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": service_database_url("assessment"),
            "kafka_bootstrap_servers": kafka.bootstrap_servers,
            "jwks_url": f"{identity_server.url}/api/v1/auth/jwks",
            "jwks_min_refetch_seconds": 0.2,
            # The session app sweeps once at start; tests run the sweeper themselves.
            "sweep_interval_seconds": 3600,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://assessment", timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="session")
def admin_dsn(postgres: Any) -> str:
    return str(postgres.admin_dsn())


@pytest.fixture(scope="session")
def service_dsn(service_database_url: Callable[[str], str]) -> str:
    """libpq DSN of the service's own role (not the superuser)."""
    return service_database_url("assessment").replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(autouse=True)
async def no_exams(admin_dsn: str, app: FastAPI) -> None:
    # On a thread: the truncation waits for the app's consumer to commit, and that
    # consumer runs on this event loop. It locks table after table, so it can deadlock
    # with the consumer's transaction; PostgreSQL then cancels it, and it goes again.
    for _ in range(10):
        try:
            await asyncio.to_thread(
                truncate_schema,
                admin_dsn,
                "assessment",
                keep=("users", "courses", "outbox", "inbox", "dead_letters", "alembic_version"),
            )
            return
        except psycopg.errors.DeadlockDetected:
            await asyncio.sleep(0.1)
    raise AssertionError("could not empty the assessment schema")


@pytest.fixture
def sql(admin_dsn: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one statement as the superuser (to look behind the API) and return its rows."""

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    return run


@dataclass
class Person:
    name: str
    id: UUID
    email: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Identity:
    """Accounts made through identity's real API and commands."""

    def __init__(self, server: RunningIdentity) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.url, timeout=30)

    async def login(self, email: str, name: str) -> Person:
        response = await self.http.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = await self.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        return Person(name, UUID(me.json()["id"]), email, token)

    async def register(self, name: str = "student") -> Person:
        email = f"{name}-{secrets.token_hex(4)}@example.org"
        response = await self.http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": name.title()},
        )
        assert response.status_code == 201, response.text
        return await self.login(email, name)

    async def admin(self, name: str = "admin") -> Person:
        email = f"{name}-{secrets.token_hex(4)}@example.org"
        env = {**self.server.env, "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD}
        result = await asyncio.to_thread(
            SERVICES["identity"].run,
            "create-admin",
            "--email",
            email,
            database_url=self.server.database_url,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        return await self.login(email, name)

    async def instructor(self, admin: Person, name: str = "instructor") -> Person:
        person = await self.register(name)
        response = await self.http.patch(
            f"/api/v1/users/{person.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
        )
        assert response.status_code == 200, response.text
        return await self.login(person.email, name)


@pytest.fixture(scope="session")
async def identity(identity_server: RunningIdentity) -> AsyncIterator[Identity]:
    accounts = Identity(identity_server)
    try:
        yield accounts
    finally:
        await accounts.http.aclose()


@dataclass
class People:
    student: Person
    classmate: Person
    other: Person  # an instructor who does not own the course
    owner: Person
    admin: Person

    def all(self) -> list[Person]:
        return [self.student, self.classmate, self.other, self.owner, self.admin]


@pytest.fixture(scope="session")
async def people(identity: Identity) -> People:
    admin = await identity.admin()
    return People(
        student=await identity.register("student"),
        classmate=await identity.register("classmate"),
        other=await identity.instructor(admin, "other"),
        owner=await identity.instructor(admin, "owner"),
        admin=admin,
    )


@pytest.fixture(scope="session")
async def producer(kafka: Any) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def send(producer: AIOKafkaProducer, event: Event) -> None:
    """Publish `event` on the real broker exactly as its producing service would."""
    message = encode(event)
    await producer.send_and_wait(
        message.topic, key=message.key, value=message.value, headers=message.headers
    )


def course_known(sql: Callable[..., list[tuple[Any, ...]]], course_id: Any) -> bool:
    return bool(sql("SELECT 1 FROM assessment.courses WHERE id = %s", (course_id,)))


class Factory:
    """Courses (through content's events), exams, questions and attempts (through the API)."""

    def __init__(self, client: httpx.AsyncClient, producer: AIOKafkaProducer, sql: Any) -> None:
        self.client = client
        self.producer = producer
        self.sql = sql

    async def send(self, event: Event) -> None:
        await send(self.producer, event)

    async def course(self, owner: Person) -> str:
        course_id = uuid.uuid4()
        await send(
            self.producer,
            CourseCreated(
                course_id=course_id,
                owner_id=owner.id,
                title="A course",
                created_at=datetime.now(UTC),
            ),
        )
        await eventually(lambda: course_known(self.sql, course_id))
        return str(course_id)

    async def exam(
        self,
        by: Person,
        course_id: str,
        *,
        questions: list[dict[str, Any]] | None = None,
        published: bool = False,
        duration_seconds: int = 600,
        passing_score_percent: int = 50,
    ) -> Any:
        response = await self.client.post(
            "/api/v1/exams",
            json={
                "course_id": course_id,
                "title": "An exam",
                "duration_seconds": duration_seconds,
                "passing_score_percent": passing_score_percent,
            },
            headers=by.auth,
        )
        assert response.status_code == 201, response.text
        exam = response.json()
        for question in questions if questions is not None else [single("a")]:
            added = await self.client.post(
                f"/api/v1/exams/{exam['id']}/questions", json=question, headers=by.auth
            )
            assert added.status_code == 201, added.text
        if published:
            response = await self.client.post(
                f"/api/v1/exams/{exam['id']}/publish", headers=by.auth
            )
            assert response.status_code == 200, response.text
        response = await self.client.get(f"/api/v1/exams/{exam['id']}", headers=by.auth)
        return response.json()

    async def start(self, student: Person, exam_id: str) -> Any:
        response = await self.client.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
        assert response.status_code in (200, 201), response.text
        return response.json()


def single(correct: str, *, points: int = 1, prompt: str = "Pick one") -> dict[str, Any]:
    return {
        "prompt": prompt,
        "kind": "single_choice",
        "options": [{"id": oid, "text": f"Option {oid}"} for oid in ("a", "b", "c")],
        "correct_option_ids": [correct],
        "points": points,
    }


def multiple(*correct: str, points: int = 1) -> dict[str, Any]:
    return {
        "prompt": "Pick all that apply",
        "kind": "multiple_choice",
        "options": [{"id": oid, "text": f"Option {oid}"} for oid in ("a", "b", "c", "d")],
        "correct_option_ids": list(correct),
        "points": points,
    }


Factory.single = staticmethod(single)  # type: ignore[attr-defined]
Factory.multiple = staticmethod(multiple)  # type: ignore[attr-defined]


@pytest.fixture
def factory(client: httpx.AsyncClient, producer: AIOKafkaProducer, sql: Any) -> Factory:
    return Factory(client, producer, sql)
