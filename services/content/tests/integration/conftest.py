"""content against the real PostgreSQL, Kafka and S3, with identity really running.

identity runs as its real app on a real port (uvicorn, in this process), so content
verifies every token through identity's JWKS endpoint over HTTP, as deployed. One
content app per session with its lifespan running (relay, consumer of identity.users);
every test starts with no courses or lessons.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from edvent_content.config import Settings
from edvent_content.main import create_app
from edvent_localstack.process import free_port
from edvent_localstack.s3 import ensure_bucket
from edvent_localstack.testing import (
    ANONYMOUS,
    Identity,
    Person,
    RunningIdentity,
    empty_schema,
)


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
            **kafka.service_settings("content"),
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


@pytest.fixture(autouse=True)
async def no_courses(admin_dsn: str, app: FastAPI) -> None:
    await empty_schema(
        admin_dsn,
        "content",
        keep=("users", "outbox", "inbox", "dead_letters", "alembic_version", "view_version"),
    )


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
        await app.state.content.stop()
        await app.state.runtime.engine.dispose()
