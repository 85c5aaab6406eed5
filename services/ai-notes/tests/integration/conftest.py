"""ai-notes against the real PostgreSQL, Kafka and S3, with identity really running.

identity runs as its real app on a real port, so ai-notes verifies tokens through its
JWKS over HTTP. One ai-notes app per session with its lifespan running (relay and the
consumer of content.courses and content.lessons); events are produced to the real
broker as content produces them, lesson bodies put in the real S3. Every test starts
with no lessons, notes or chunks, and with the provider behaving.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import boto3
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from edvent_ai_notes.config import Settings
from edvent_ai_notes.main import create_app
from edvent_events.catalog.content import CourseCreated, CoursePublished, LessonPublished
from edvent_events.connection import Kafka, client_kwargs
from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_localstack.s3 import ensure_bucket
from edvent_localstack.testing import Identity, Person, RunningIdentity, empty_schema

from .doubles import ScriptedProvider, provider


@dataclass
class People:
    student: Person
    owner: Person
    admin: Person


@pytest.fixture(scope="session")
async def people(identity: Identity) -> People:
    # Owner rights need the INSTRUCTOR role as well as the courses reference's owner.
    admin = await identity.admin()
    return People(
        student=await identity.register("student"),
        owner=await identity.instructor(admin, "owner"),
        admin=admin,
    )


@pytest.fixture(scope="session")
def bucket(s3: Any) -> str:
    name = f"ai-notes-test-{secrets.token_hex(4)}"
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
            "database_url": service_database_url("ai-notes"),
            **kafka.service_settings("ai-notes"),
            "jwks_url": f"{identity_server.url}/api/v1/auth/jwks",
            "jwks_min_refetch_seconds": 0.2,
            "s3_endpoint_url": s3.endpoint_url,
            "s3_access_key": s3.access_key,
            "s3_secret_key": s3.secret_key,
            "s3_region": s3.region,
            "s3_bucket": bucket,
            "provider": "local",
            # The search's word counts recounted soon after a change (test_term_stats).
            "term_stats_refresh_seconds": 0.2,
            # Two tries before the dead letter keeps the failure tests short.
            "consumer_max_attempts": 2,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def scripted() -> ScriptedProvider:
    return ScriptedProvider(provider())


@pytest.fixture(scope="session")
async def app(make_settings: Callable[..., Settings], scripted: ScriptedProvider) -> Any:
    app = create_app(make_settings(), provider=scripted)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ai-notes"
    ) as client:
        yield client


@pytest.fixture(autouse=True)
async def clean(admin_dsn: str, app: FastAPI, scripted: ScriptedProvider) -> None:
    await empty_schema(
        admin_dsn,
        "ai_notes",
        keep=("outbox", "inbox", "dead_letters", "alembic_version", "view_version"),
    )
    scripted.reset()


class Content:
    """Plays the content service: bodies into S3, events onto the broker."""

    def __init__(
        self,
        *,
        s3: Any,
        bucket: str,
        bootstrap: Kafka,
        principals: Callable[[str], Kafka] | None = None,
    ) -> None:
        self.bucket = bucket
        self.bootstrap = bootstrap
        # A service's own Kafka credentials by its name, to write its topics.
        self.principals = principals
        self.client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            aws_access_key_id=s3.access_key,
            aws_secret_access_key=s3.secret_key,
            region_name=s3.region,
        )

    def put(self, body: str, *, course_id: UUID, lesson_id: UUID) -> tuple[str, str]:
        """Where content stores a body: under its course's and lesson's own prefix."""
        data = body.encode()
        sha = hashlib.sha256(data).hexdigest()
        key = f"courses/{course_id}/lessons/{lesson_id}/{sha}.md"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return key, sha

    async def send(
        self, *events: Event, event_id: str | None = None, traceparent: str | None = None
    ) -> None:
        """Each event written by its owner's principal, as its owner's relay would."""
        for event in events:
            owner = type(event).source.rsplit("/", 1)[-1]
            bootstrap = self.principals(owner) if self.principals else self.bootstrap
            producer = AIOKafkaProducer(**client_kwargs(bootstrap), acks="all")
            await producer.start()
            try:
                message = encode(event, event_id=event_id, traceparent=traceparent)
                await producer.send_and_wait(
                    message.topic, value=message.value, key=message.key, headers=message.headers
                )
            finally:
                await producer.stop()

    async def course(self, *, owner_id: UUID | None, published: bool = True) -> UUID:
        """A new course, published unless asked for a draft."""
        course_id = uuid.uuid4()
        assert owner_id is not None
        events: list[Event] = [
            CourseCreated(
                course_id=course_id,
                owner_id=owner_id,
                title="Physics",
                created_at=datetime.now(UTC),
            )
        ]
        if published:
            events.append(
                CoursePublished(
                    course_id=course_id,
                    owner_id=owner_id,
                    title="Physics",
                    published_at=datetime.now(UTC),
                )
            )
        await self.send(*events)
        return course_id

    def published(
        self,
        *,
        course_id: UUID,
        body: str,
        lesson_id: UUID | None = None,
        title: str = "Lesson",
        order_index: int = 0,
        key: str | None = None,
    ) -> LessonPublished:
        lesson_id = lesson_id or uuid.uuid4()
        stored_key, sha = self.put(body, course_id=course_id, lesson_id=lesson_id)
        return LessonPublished(
            lesson_id=lesson_id,
            course_id=course_id,
            title=title,
            order_index=order_index,
            content_key=key or stored_key,
            content_sha256=sha,
            published_at=datetime.now(UTC),
        )


@pytest.fixture(scope="session")
def content(s3: Any, bucket: str, kafka: Any) -> Content:
    return Content(
        s3=s3, bucket=bucket, bootstrap=kafka.connection("content"), principals=kafka.connection
    )
