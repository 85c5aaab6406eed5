"""content against the real PostgreSQL, Kafka and S3, with identity really running.

identity runs as its real app on a real port (uvicorn, in this process), so content
verifies every token through identity's JWKS endpoint over HTTP, as deployed. One
content app per session with its lifespan running (relay, consumer of identity.users);
every test starts with no courses or lessons.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI

from edvent_content.config import Settings
from edvent_content.main import create_app
from edvent_identity.config import Settings as IdentitySettings
from edvent_identity.main import create_app as create_identity_app
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import truncate_schema
from edvent_localstack.s3 import ensure_bucket
from edvent_localstack.services import SERVICES

PASSWORD = "correct horse battery staple"
# The OWASP minimum: fast enough for tests, and still what production accepts.
FAST_ARGON2 = {"argon2_time_cost": 2, "argon2_memory_kib": 19_456, "argon2_parallelism": 1}


@dataclass
class RunningIdentity:
    url: str
    database_url: str
    env: dict[str, str]

    def command(self, *args: str) -> str:
        """Run an `edvent-identity` command against its database; its output."""
        result = SERVICES["identity"].run(*args, database_url=self.database_url, env=self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout


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
        # Sign with a rotated key at once instead of within a minute.
        "signing_key_reload_seconds": 0,
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
def bucket(s3: Any) -> str:
    name = f"content-test-{secrets.token_hex(4)}"
    ensure_bucket(
        endpoint_url=s3.endpoint_url,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        region=s3.region,
        bucket=name,
    )
    return name


@pytest.fixture(scope="session")
def make_settings(
    service_database_url: Callable[[str], str],
    kafka: Any,
    s3: Any,
    bucket: str,
    identity_server: RunningIdentity,
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": service_database_url("content"),
            "kafka_bootstrap_servers": kafka.bootstrap_servers,
            "jwks_url": f"{identity_server.url}/api/v1/auth/jwks",
            "jwks_min_refetch_seconds": 0.2,
            "s3_endpoint_url": s3.endpoint_url,
            "s3_access_key": s3.access_key,
            "s3_secret_key": s3.secret_key,
            "s3_region": s3.region,
            "s3_bucket": bucket,
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
        transport=httpx.ASGITransport(app=app), base_url="http://content"
    ) as client:
        yield client


@pytest.fixture(scope="session")
def admin_dsn(postgres: Any) -> str:
    return str(postgres.admin_dsn())


@pytest.fixture(autouse=True)
def no_courses(admin_dsn: str, app: FastAPI) -> None:
    truncate_schema(
        admin_dsn,
        "content",
        keep=("users", "outbox", "inbox", "dead_letters", "alembic_version"),
    )


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
    id: UUID | None
    email: str | None
    access_token: str | None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}


ANONYMOUS = Person("anonymous", None, None, None)


class Identity:
    """Accounts made through identity's real API and commands."""

    def __init__(self, server: RunningIdentity) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.url, timeout=30)

    async def login(self, email: str, name: str = "user") -> Person:
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
        assert person.email is not None
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
    anonymous: Person
    student: Person
    other: Person
    owner: Person
    admin: Person

    def all(self) -> list[Person]:
        return [self.anonymous, self.student, self.other, self.owner, self.admin]


@pytest.fixture(scope="session")
async def people(identity: Identity) -> People:
    admin = await identity.admin()
    return People(
        anonymous=ANONYMOUS,
        student=await identity.register("student"),
        other=await identity.instructor(admin, "other"),
        owner=await identity.instructor(admin, "owner"),
        admin=admin,
    )


class Catalogue:
    """Small factories over content's API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def course(self, by: Person, *, published: bool = False, title: str = "Course") -> Any:
        response = await self.client.post(
            "/api/v1/courses", json={"title": title, "description": "About it"}, headers=by.auth
        )
        assert response.status_code == 201, response.text
        course = response.json()
        if published:
            course = await self.publish_course(by, course["id"])
        return course

    async def publish_course(self, by: Person, course_id: str) -> Any:
        response = await self.client.post(f"/api/v1/courses/{course_id}/publish", headers=by.auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def lesson(
        self,
        by: Person,
        course_id: str,
        *,
        published: bool = False,
        body: str = "# Lesson\n\nSome text.\n",
        title: str = "Lesson",
        order_index: int | None = None,
    ) -> Any:
        payload: dict[str, Any] = {"title": title, "content_markdown": body}
        if order_index is not None:
            payload["order_index"] = order_index
        response = await self.client.post(
            f"/api/v1/courses/{course_id}/lessons", json=payload, headers=by.auth
        )
        assert response.status_code == 201, response.text
        lesson = response.json()
        if published:
            response = await self.client.post(
                f"/api/v1/lessons/{lesson['id']}/publish", headers=by.auth
            )
            assert response.status_code == 200, response.text
            lesson = response.json()
        return lesson


@pytest.fixture
def catalogue(client: httpx.AsyncClient) -> Catalogue:
    return Catalogue(client)


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: a dependency that is down."""
    return free_port()


@pytest.fixture
async def s3_down_app(make_settings: Callable[..., Settings], unused_port: int) -> Any:
    """content whose S3 is unreachable. Its lifespan is not run: a second consumer in
    the session app's group would only make the two rebalance."""
    app = create_app(make_settings(s3_endpoint_url=f"http://127.0.0.1:{unused_port}"))
    try:
        yield app
    finally:
        await app.state.content.close()
        await app.state.runtime.engine.dispose()
