"""Helpers the services' integration tests share.

identity really running (its real app under uvicorn, so a service verifies tokens
through the real JWKS over HTTP), accounts made through its API and commands, a
schema emptied between tests, and the check that the migrations make the tables the
code declares. identity, uvicorn, SQLAlchemy and Alembic are imported where used:
they come from the service whose tests call these, not from this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import psycopg

from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import truncate_schema
from edvent_localstack.services import SERVICES

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.types import TypeEngine

PASSWORD = "correct horse battery staple"  # noqa: S105 (the test accounts' password)
# The OWASP minimum: fast enough for tests, and still what production accepts.
FAST_ARGON2: dict[str, Any] = {
    "argon2_time_cost": 2,
    "argon2_memory_kib": 19_456,
    "argon2_parallelism": 1,
}
# Alembic's own bookkeeping, not a table the code declares.
NOT_DECLARED = frozenset({"alembic_version"})


async def empty_schema(admin_dsn: str, schema: str, *, keep: tuple[str, ...] = ()) -> None:
    """`truncate_schema` while the service's app runs on this event loop.

    On a thread: TRUNCATE waits for the app's open transactions (its consumer's, its
    relay's), which need this loop to finish. It locks table after table, so it can
    deadlock with such a transaction; PostgreSQL then cancels it, and it goes again.
    """
    for _ in range(10):
        try:
            await asyncio.to_thread(truncate_schema, admin_dsn, schema, keep=keep)
            return
        except psycopg.errors.DeadlockDetected:
            await asyncio.sleep(0.1)
    raise AssertionError(f"could not empty the {schema} schema")


def assert_migrations_match(
    admin_dsn: str,
    *,
    schema: str,
    metadata: MetaData,
    types: Mapping[str, type[TypeEngine[Any]]] | None = None,
) -> None:
    """The migrated `schema` and the table definitions `metadata` describe the same
    tables, the events library's outbox, inbox and dead letters included, CHECK
    constraints too (which Alembic's comparison does not look at).

    `types` are the types of extensions (pgvector's `vector`) the service declares
    itself, by their name in PostgreSQL: reflection builds them from the column's
    arguments, so those are compared too. SQLAlchemy leaves a type it does not know
    out of the comparison (and warns).
    """
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import CheckConstraint, MetaData, create_engine
    from sqlalchemy.dialects.postgresql.base import PGDialect
    from sqlalchemy.sql.elements import conv

    from edvent_events.outbox import events_tables

    declared = MetaData(schema=metadata.schema, naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(declared)
    for table in events_tables():
        table.to_metadata(declared, schema=schema)

    # As the superuser, whose default schema is not the service's, so names compare
    # as schema-qualified on both sides. The extensions schema is on the path, as it
    # is for the services, so its types read as `vector(384)`, not `extensions.vector`.
    engine = create_engine(
        admin_dsn.replace("postgresql://", "postgresql+psycopg://", 1),
        connect_args={"options": '-c search_path="$user",public,extensions'},
    )
    if types:
        dialect = engine.dialect
        assert isinstance(dialect, PGDialect)
        # On this engine's dialect only, not on every PostgreSQL dialect.
        dialect.ischema_names = {**dialect.ischema_names, **types}
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _parent: kind != "schema" or name == schema,
                    "include_object": lambda _obj, name, kind, *_: (
                        not (kind == "table" and name in NOT_DECLARED)
                    ),
                    "compare_type": True,
                },
            )
            differences = compare_metadata(context, declared)
            assert not differences, differences
            in_database = {
                (table, name)
                for table, name in conn.exec_driver_sql(
                    "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c"
                    " JOIN pg_namespace n ON n.oid = c.connamespace"
                    " WHERE c.contype = 'c' AND n.nspname = %(schema)s",
                    {"schema": schema},
                )
            }
        convention = str(metadata.naming_convention.get("ck", "%(constraint_name)s"))
        in_code = {
            (
                f"{schema}.{table.name}",
                # A name the convention has already applied to (`conv`) stays as it is.
                str(constraint.name)
                if isinstance(constraint.name, conv)
                else convention % {"table_name": table.name, "constraint_name": constraint.name},
            )
            for table in declared.tables.values()
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
        }
        assert in_database == in_code, (
            f"CHECK constraints only in the database: {sorted(in_database - in_code)};"
            f" only in the code: {sorted(in_code - in_database)}"
        )
    finally:
        engine.dispose()


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


@contextlib.asynccontextmanager
async def running_identity(
    *, database_url: str, kafka: Mapping[str, str]
) -> AsyncIterator[RunningIdentity]:
    """identity's real app on a free port of this host, in this event loop; `kafka`
    are its Kafka settings (`KafkaBroker.service_settings("identity")`)."""
    import uvicorn

    from edvent_identity.config import Settings
    from edvent_identity.main import create_app

    settings = Settings(
        environment="test",
        database_url=database_url,
        **kafka,  # type: ignore[arg-type]
        # Sign with a rotated key at once instead of within a minute.
        signing_key_reload_seconds=0,
        access_token_ttl_seconds=3600,
        login_max_failures_per_client=1000,
        # Every service's tests register their people here, all from 127.0.0.1.
        register_max_per_client=100_000,
        # No mail server here: the emails identity writes stay in its outbox.
        email_sender_enabled=False,
        **FAST_ARGON2,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
        )
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


class ProductionSecretsContract:
    """Production refuses every development secret of a service's settings (#26.4).

    A service's unit tests subclass it with its `Settings` class and `secret_fields`:

        class TestSecrets(ProductionSecretsContract):
            settings_class = Settings
            secret_fields = ("s3_access_key", "s3_secret_key")
    """

    settings_class: Any
    secret_fields: tuple[str, ...] = ()
    DEVELOPMENT_VALUES = ("changethis", "dev-password")
    REAL_DATABASE_URL = "postgresql+psycopg://svc:Xq9-a-real-secret@db:5432/edvent"

    def base(self) -> dict[str, Any]:
        # What a production start needs besides secrets (identity's key passphrase).
        base: dict[str, Any] = {"environment": "production", "database_url": self.REAL_DATABASE_URL}
        if "signing_key_passphrase" in self.secret_fields:
            base["signing_key_passphrase"] = "Xq9-a-real-key-encryption-secret"  # noqa: S105
        return base

    def test_every_secret_field_is_listed(self) -> None:
        listed = self.settings_class(**self.base()).secret_fields()
        assert set(self.secret_fields) <= set(listed)

    def test_production_refuses_each_development_value(self) -> None:
        import pytest
        from pydantic import ValidationError

        for field in self.secret_fields:
            for value in self.DEVELOPMENT_VALUES:
                with pytest.raises(ValidationError, match=field):
                    self.settings_class(**{**self.base(), field: value})

    def test_production_refuses_a_development_database_password(self) -> None:
        import pytest
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="database_url"):
            self.settings_class(
                **{**self.base(), "database_url": "postgresql+psycopg://svc:changethis@db/edvent"}
            )

    def test_production_starts_with_real_secrets(self) -> None:
        values = {field: f"Xq9-real-{field}" for field in self.secret_fields}
        assert self.settings_class(**{**self.base(), **values}).environment == "production"


def traceparent_header() -> tuple[str, dict[str, str]]:
    """A caller's fresh trace context: (its traceparent, the header carrying it)."""
    value = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    return value, {"traceparent": value}


def assert_outbox_continues(spans: Any, stored: str | None, incoming: str) -> None:
    """`stored` (an outbox row's traceparent) names the span that wrote the event, and
    that span continues `incoming` (the caller's context): the trace survives the outbox.
    `spans` is the `spans` fixture's exporter (tracing on)."""
    from edvent_events.tracing import span_context_of

    written, caller = span_context_of(stored), span_context_of(incoming)
    assert written is not None and caller is not None, (stored, incoming)
    assert written.trace_id == caller.trace_id, (stored, incoming)
    [create] = [s for s in spans.get_finished_spans() if s.context.span_id == written.span_id]
    assert create.name.endswith(" create"), create.name
    # Its parent is the caller's span, or a span of the service under it (a consumer's).
    by_id = {s.context.span_id: s for s in spans.get_finished_spans()}
    parent = create.parent
    while parent is not None and parent.span_id != caller.span_id:
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    assert parent is not None, f"{create.name} does not descend from the caller's span"
