"""assessment against the real PostgreSQL and Kafka, with identity really running.

identity runs as its real app on a real port (uvicorn, in this process), so
assessment verifies every token through identity's JWKS endpoint over HTTP. One
assessment app per session with its lifespan running (relay, consumer of
identity.users, content.courses and its own assessment.attempts, sweeper). Courses
reach it as content would send them: CourseCreated events on the real broker. Every
test starts with no exams or attempts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from edvent_assessment.config import Settings
from edvent_assessment.main import create_app
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
)
from edvent_events.contract import Event
from edvent_events.envelope import encode
from edvent_localstack.pytest_plugin import eventually
from edvent_localstack.testing import Identity, Person, RunningIdentity, empty_schema


@pytest.fixture(scope="session")
def make_settings(
    service_database_url: Callable[[str], str], kafka: Any, identity_server: RunningIdentity
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": service_database_url("assessment"),
            **kafka.service_settings("assessment"),
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
def service_dsn(service_database_url: Callable[[str], str]) -> str:
    """libpq DSN of the service's own role (not the superuser)."""
    return service_database_url("assessment").replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(autouse=True)
async def no_exams(admin_dsn: str, app: FastAPI) -> None:
    await empty_schema(
        admin_dsn,
        "assessment",
        keep=(
            "users",
            "courses",
            "outbox",
            "inbox",
            "dead_letters",
            "alembic_version",
            "view_version",
        ),
    )


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


def course_known(sql: Callable[..., list[tuple[Any, ...]]], course_id: Any) -> bool:
    return bool(sql("SELECT 1 FROM assessment.courses WHERE id = %s", (course_id,)))


class Factory:
    """Courses (through content's events), exams, questions and attempts (through the API)."""

    def __init__(self, client: httpx.AsyncClient, producer: AIOKafkaProducer, sql: Any) -> None:
        self.client = client
        self.producer = producer
        self.sql = sql

    async def send(self, event: Event) -> None:
        """Publish `event` on the real broker exactly as its producing service would."""
        message = encode(event)
        await self.producer.send_and_wait(
            message.topic, key=message.key, value=message.value, headers=message.headers
        )

    async def course(self, owner: Person, *, published: bool = True) -> str:
        """A course as content announces it: created, and published unless `published`
        is false (a draft's exams are hidden from students)."""
        course_id = uuid.uuid4()
        await self.send(
            CourseCreated(
                course_id=course_id,
                owner_id=owner.id,
                title="A course",
                created_at=datetime.now(UTC),
            ),
        )
        await eventually(lambda: course_known(self.sql, course_id))
        if published:
            await self.publish_course(course_id, owner)
        return str(course_id)

    def _course_row(self, course_id: Any) -> tuple[Any, ...]:
        rows = self.sql(
            "SELECT owner_id, published_at, archived_at FROM assessment.courses WHERE id = %s",
            (course_id,),
        )
        return rows[0] if rows else (None, None, None)

    async def publish_course(self, course_id: Any, owner: Person) -> None:
        await self.send(
            CoursePublished(
                course_id=uuid.UUID(str(course_id)),
                owner_id=owner.id,
                title="A course",
                published_at=datetime.now(UTC),
            )
        )
        await eventually(lambda: self._course_row(course_id)[1] is not None)

    async def unpublish_course(self, course_id: Any) -> None:
        await self.send(
            CourseUnpublished(course_id=uuid.UUID(str(course_id)), unpublished_at=datetime.now(UTC))
        )
        await eventually(lambda: self._course_row(course_id)[1] is None)

    async def archive_course(self, course_id: Any) -> None:
        await self.send(
            CourseArchived(course_id=uuid.UUID(str(course_id)), archived_at=datetime.now(UTC))
        )
        await eventually(lambda: self._course_row(course_id)[2] is not None)

    async def change_owner(self, course_id: Any, old: Person, new: Person) -> None:
        await self.send(
            CourseOwnerChanged(
                course_id=uuid.UUID(str(course_id)),
                old_owner_id=old.id,
                new_owner_id=new.id,
                changed_at=datetime.now(UTC),
            )
        )
        await eventually(lambda: str(self._course_row(course_id)[0]) == str(new.id))

    async def exam(
        self,
        by: Person,
        course_id: str,
        *,
        questions: list[dict[str, Any]] | None = None,
        published: bool = False,
        duration_seconds: int = 600,
        passing_score_percent: int = 50,
        config: dict[str, Any] | None = None,
    ) -> Any:
        body: dict[str, Any] = {
            "course_id": course_id,
            "title": "An exam",
            "duration_seconds": duration_seconds,
            "passing_score_percent": passing_score_percent,
        }
        if config is not None:
            body["config"] = config
        response = await self.client.post("/api/v1/exams", json=body, headers=by.auth)
        assert response.status_code == 201, response.text
        exam = response.json()
        for question in questions if questions is not None else [self.single("a")]:
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

    @staticmethod
    def single(correct: str, *, points: int = 1, prompt: str = "Pick one") -> dict[str, Any]:
        return {
            "prompt": prompt,
            "kind": "single_choice",
            "options": [{"id": oid, "text": f"Option {oid}"} for oid in ("a", "b", "c")],
            "correct_option_ids": [correct],
            "points": points,
        }

    @staticmethod
    def multiple(*correct: str, points: int = 1) -> dict[str, Any]:
        return {
            "prompt": "Pick all that apply",
            "kind": "multiple_choice",
            "options": [{"id": oid, "text": f"Option {oid}"} for oid in ("a", "b", "c", "d")],
            "correct_option_ids": list(correct),
            "points": points,
        }


@pytest.fixture
def factory(client: httpx.AsyncClient, producer: AIOKafkaProducer, sql: Any) -> Factory:
    return Factory(client, producer, sql)
