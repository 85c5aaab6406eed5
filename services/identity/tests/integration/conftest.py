"""identity against the real PostgreSQL (its own schema and role, migrated) and Kafka.

One app per session with its lifespan running (relay included); every test starts
from empty identity tables (signing keys and the outbox are kept).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from edvent_events.topics import IDENTITY_USERS
from edvent_identity.bootstrap import Identity
from edvent_identity.config import Settings
from edvent_identity.main import create_app
from edvent_identity.usecases import auth as auth_usecases
from edvent_identity.usecases import users as users_usecases
from edvent_localstack.mailpit import MailpitClient
from edvent_localstack.pytest_plugin import read_topic, truncate_schema

PASSWORD = "correct horse battery staple"
# The OWASP minimum: fast enough for tests, and still what production accepts.
FAST_ARGON2 = {"argon2_time_cost": 2, "argon2_memory_kib": 19_456, "argon2_parallelism": 1}


@pytest.fixture(scope="session")
def identity_url(service_database_url: Callable[[str], str]) -> str:
    return service_database_url("identity")


WEB_ORIGIN = "http://web.test"


@pytest.fixture(scope="session")
def make_settings(identity_url: str, kafka: Any, mailpit: Any) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": identity_url,
            **kafka.service_settings("identity"),
            "smtp_host": "127.0.0.1",
            "smtp_port": mailpit.smtp_port,
            "web_origin": WEB_ORIGIN,
            # Tests deliver with `identity.deliver_emails()` when they mean to.
            "email_sender_enabled": False,
            **FAST_ARGON2,
            # Follow rotations at once instead of within a minute.
            "signing_key_reload_seconds": 0,
            "login_max_failures_per_client": 12,
            # The test client's peer is 127.0.0.1: it plays the gateway.
            "trusted_proxies": "127.0.0.0/8",
            # Tests send a dozen logins at once and mean them to be hashed, not shed.
            "password_hashing_queue": 16,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def identity(app: FastAPI) -> Identity:
    state: Identity = app.state.identity
    return state


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://identity"
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def empty_tables(admin_dsn: str) -> None:
    truncate_schema(
        admin_dsn, "identity", keep=("signing_keys", "alembic_version", "outbox", "inbox")
    )


@dataclass
class Account:
    id: UUID
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Accounts:
    """Small factories: users made through the API, admins through the bootstrap."""

    def __init__(self, client: httpx.AsyncClient, identity: Identity, unique: Any) -> None:
        self.client = client
        self.identity = identity
        self.unique = unique

    def email(self) -> str:
        return f"{self.unique('user')}@example.org"

    async def register(self, *, email: str | None = None, password: str = PASSWORD) -> Account:
        email = email or self.email()
        response = await self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "full_name": "Test User"},
        )
        assert response.status_code == 201, response.text
        return await self.login(email=email, password=password)

    async def login(self, *, email: str, password: str = PASSWORD) -> Account:
        response = await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = await self.client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        return Account(
            id=UUID(me.json()["id"]),
            email=email,
            password=password,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    async def admin(self) -> Account:
        email = self.email()
        async with self.identity.passwords.slot() as hashing:
            password_hash = await auth_usecases.hash_new_password(
                hashing=hashing, password=PASSWORD
            )
        async with self.identity.transaction() as session:
            await users_usecases.bootstrap_admin(
                session=session, email=email, password_hash=password_hash, full_name="Admin"
            )
        return await self.login(email=email)


@pytest.fixture
def accounts(client: httpx.AsyncClient, identity: Identity, unique: Any) -> Accounts:
    return Accounts(client, identity, unique)


@dataclass
class Published:
    key: str
    headers: dict[str, str]
    data: dict[str, Any]


@pytest.fixture
def user_events(kafka: Any) -> Callable[..., Awaitable[list[Published]]]:
    """`await user_events(user_id, until=n)`: that user's records on identity.users,
    read from the beginning until at least `until` arrived (or the deadline)."""

    async def read(user_id: UUID, *, until: int = 1, timeout: float = 30) -> list[Published]:
        key = str(user_id).encode()
        records = await read_topic(
            kafka.admin,
            IDENTITY_USERS,
            expected=until,
            timeout=timeout,
            where=lambda record: record.key == key,
        )
        return [
            Published(
                key=record.key.decode(),
                headers={k: v.decode() for k, v in record.headers},
                data=json.loads(record.value),
            )
            for record in records
        ]

    return read


@pytest.fixture
def outbox_rows(sql: Callable[..., list[tuple[Any, ...]]]) -> Callable[[UUID], list[str]]:
    """The ce_types staged for a user on identity.users, oldest first (the outbox is
    never truncated). The user's key messages (identity.user-keys) are left out."""

    def rows(user_id: UUID) -> list[str]:
        return [
            row[0]
            for row in sql(
                "SELECT ce_type FROM identity.outbox WHERE key = %s AND topic = %s ORDER BY id",
                (str(user_id), IDENTITY_USERS),
            )
        ]

    return rows


@pytest.fixture
def mailbox(mailpit: Any) -> MailpitClient:
    return MailpitClient(mailpit.url)
