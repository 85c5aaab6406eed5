"""Busy reads whose answer is the same for every student, answered from memory.

A published course, lesson, note or exam list looks the same to every caller whose
role that counts is STUDENT (CONTRACT.md "Who may see what": owner rights need the
INSTRUCTOR role, so a student's view never holds drafts, not even their own), and the
anonymous catalogue is that same view. Answering it afresh costs a session, a query
and validating the rows; answering it from memory costs one small statement.

Each process keeps the 200 answers it gave to students (and, on routes open to
anonymous callers, to those), keyed by path and query string, with the service's view
version they were read at. A statement trigger bumps that version on every write to
the tables the views are made of (`ddl`), so no writer (the API, a consumer, an
operator's SQL) can change them unseen. Every request still reads the version first,
in the same round trip as the caller's users reference row (session cut-off, erasure,
a role changed since the token), and is answered from memory only when the version is
unchanged and the caller is a student (or anonymous) whose token the route would
accept: no answer is ever staler than the database, and none is ever kept for, or
given to, any other view. Anything else (an instructor or ADMIN, a query naming the
caller's own things, a token refused, the database unreachable, an error answer)
goes to the route, which answers or refuses it as it always did.

It sits inside the platform's request middleware, so request ids, access logs and
metrics are the same for answers from memory.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import BigInteger, CheckConstraint, Column, MetaData, SmallInteger, Table
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edvent_platform.auth import current_role, session_ended
from edvent_platform.db import libpq_url

logger = logging.getLogger("edvent.platform.view_cache")

STUDENT = "STUDENT"
# A path segment that is an id in its canonical spelling (other spellings the route
# may accept are simply answered afresh).
ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Bounds per process, so that a client walking through made-up query strings (every
# cursor is a new key) costs memory only up to here: the least recently used go.
MAX_ENTRIES = 1024
MAX_BODY_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class CachedView:
    """A GET route (its path as a regular expression) whose answer every student shares."""

    path: str
    # The route answers callers without a token, and a student's view is theirs: the
    # route makes the anonymous answer for students too (their token is checked here).
    anonymous: bool = False
    # Query parameters that make the answer the caller's own (`owner=me`): such
    # requests always go to the route.
    own: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(self.path))

    def matches(self, path: str) -> bool:
        return self._pattern.fullmatch(path) is not None  # type: ignore[attr-defined, no-any-return]

    def names_own(self, query_string: bytes) -> bool:
        query = parse_qs(query_string.decode("latin-1"))
        return any(value in query.get(name, []) for name, value in self.own.items())


@dataclass(frozen=True, slots=True)
class UserRow:
    role: str
    role_changed_at: datetime | None
    not_before: datetime | None
    deleted: bool


class ViewVersion:
    """The service's view version, read by every request a `ViewCache` may answer.

    Through a small psycopg pool of its own, not SQLAlchemy's engine: this one statement
    runs on every request of the busiest routes, and SQLAlchemy's async layers cost
    twice what the statement itself does (bench/RESULTS.md, the gateway load).
    """

    def __init__(
        self,
        *,
        database_url: str,
        schema: str,
        app_name: str,
        table: str = "view_version",
        size: int = 4,
    ) -> None:
        self.query = f"SELECT version FROM {table}"
        # The version and, in the same round trip, what decides a signed-in caller's
        # view: the users reference row (`edvent_platform.reference_users`), if any.
        self.with_user_query = (
            "SELECT v.version, u.role, u.role_changed_at, u.not_before, u.deleted_at"
            f" FROM {table} v LEFT JOIN users u ON u.id = %s"
        )
        self.pool = AsyncConnectionPool(
            libpq_url(database_url),
            min_size=1,
            max_size=size,
            open=False,
            name=f"{app_name}-view-version",
            kwargs={
                "autocommit": True,
                "options": f"-c search_path={schema} -c default_transaction_read_only=on",
                "application_name": app_name,
            },
        )

    async def open(self) -> None:
        # Not waiting for the first connection: a database down at start is /readyz's
        # business; until it is up every read fails and the route answers afresh.
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def read(self) -> int:
        """The version now; fails (any exception) when it cannot be read quickly."""
        # Short: while the database is away each request waits this long before it is
        # answered (or refused) the way it would be without the cache.
        async with self.pool.connection(timeout=1.0) as conn:
            cursor = await conn.execute(self.query)
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("the view version row is missing")
        version: int = row[0]
        return version

    async def read_with_user(self, user_id: UUID) -> tuple[int, UserRow | None]:
        """The version now and the user's reference row (None: not heard of yet)."""
        async with self.pool.connection(timeout=1.0) as conn:
            cursor = await conn.execute(self.with_user_query, (user_id,))
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("the view version row is missing")
        version, role, role_changed_at, not_before, deleted_at = row
        if role is None:
            return version, None
        return version, UserRow(role, role_changed_at, not_before, deleted_at is not None)


@dataclass(frozen=True)
class Answer:
    version: int
    route: Any  # the matched route, for the metrics' route label
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ViewCache:
    """ASGI middleware; the app's `state.view_version` is its `ViewVersion` and
    `state.token_verifier` its token verifier (`install_token_verifier`)."""

    def __init__(self, app: ASGIApp, *, views: Sequence[CachedView]) -> None:
        self.app = app
        self.views = tuple(views)
        self.answers: OrderedDict[bytes, Answer] = OrderedDict()
        self.total_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        view = self._view(scope)
        if view is None:
            await self.app(scope, receive, send)
            return
        # The platform's middleware outside reads the matched route from its own scope
        # (metrics, access log), which a student's anonymous view is answered without.
        caller_scope = scope
        token = _bearer_token(scope)
        version: int | None
        if token is None:
            version = await _anonymous_version(scope) if view.anonymous else None
        elif not token or view.names_own(scope["query_string"]):
            version = None
        else:
            version = await _student_version(scope, token)
            if version is not None and view.anonymous:
                # The route makes the anonymous answer, which is this caller's view too.
                scope = {
                    **scope,
                    "headers": [
                        (k, v) for k, v in scope["headers"] if k.lower() != b"authorization"
                    ],
                }
        if version is None:  # not a shared view, or not sure of it: the route decides
            await self.app(scope, receive, send)
            return
        key = scope["path"].encode("utf-8") + b"?" + scope["query_string"]
        answer = self.answers.get(key)
        if answer is not None and answer.version == version:
            self.answers.move_to_end(key)
            caller_scope["route"] = answer.route
            headers = list(answer.headers)  # the layers outside add their own to it
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._answer_and_keep(scope, receive, send, key=key, version=version)
        if "route" in scope:
            caller_scope["route"] = scope["route"]

    def _view(self, scope: Scope) -> CachedView | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        return next((view for view in self.views if view.matches(scope["path"])), None)

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, *, key: bytes, version: int
    ) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal status, headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_BODY_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if status == 200 and size <= MAX_BODY_BYTES:
            self._keep(key, Answer(version, scope.get("route"), headers, b"".join(chunks)))

    def _keep(self, key: bytes, answer: Answer) -> None:
        if (replaced := self.answers.pop(key, None)) is not None:
            self.total_bytes -= len(replaced.body)
        self.answers[key] = answer
        self.total_bytes += len(answer.body)
        while len(self.answers) > MAX_ENTRIES or self.total_bytes > MAX_TOTAL_BYTES:
            _, evicted = self.answers.popitem(last=False)
            self.total_bytes -= len(evicted.body)


def _bearer_token(scope: Scope) -> str | None:
    """None without an Authorization header; "" for one that is not a single bearer
    token (left to the route, which decides as it always did)."""
    values = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
    if not values:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    return token.strip() if len(values) == 1 and scheme.lower() == "bearer" else ""


async def _anonymous_version(scope: Scope) -> int | None:
    try:
        version: int = await scope["app"].state.view_version.read()
    except Exception:  # noqa: BLE001 - the route answers (or fails) as without a cache
        logger.debug("view version unreadable; answering without the cache")
        return None
    return version


async def _student_version(scope: Scope, token: str) -> int | None:
    """The view version when the token is valid and the role that counts for its user
    is STUDENT; None for anything else, which the route then answers (or refuses)."""
    state = scope["app"].state
    try:
        principal = await state.token_verifier.verify(token)
        version, row = await state.view_version.read_with_user(principal.user_id)
        if row is not None:
            session_ended(principal, not_before=row.not_before, deleted=row.deleted)
        role = current_role(
            principal,
            known_role=row.role if row else None,
            changed_at=row.role_changed_at if row else None,
        )
    except Exception:  # noqa: BLE001 - refused, or unreadable: the route decides
        return None
    return version if role == STUDENT else None


def version_table(metadata: MetaData) -> Table:
    """The `view_version` table `create_version_table` makes, for the service's metadata."""
    return Table(
        "view_version",
        metadata,
        Column("id", SmallInteger, primary_key=True, server_default="1"),
        Column("version", BigInteger, nullable=False, server_default="0"),
        CheckConstraint("id = 1", name="one_row"),
    )


def create_version_table(schema: str, *, watched: Sequence[str]) -> list[str]:
    """A migration's statements: the `view_version` row and the statement triggers that
    bump it on any write to `watched` (tables in `schema`). Its row lock makes the
    writers of those tables take turns until commit: keep hot write paths off them.
    Frozen once a migration uses it; a different shape is a new function."""
    statements = [
        f"""
        CREATE TABLE {schema}.view_version (
            id smallint NOT NULL DEFAULT 1,
            version bigint NOT NULL DEFAULT 0,
            CONSTRAINT pk_view_version PRIMARY KEY (id),
            CONSTRAINT ck_view_version_one_row CHECK (id = 1)
        )
        """,
        f"INSERT INTO {schema}.view_version (id, version) VALUES (1, 0)",
        f"""
        CREATE FUNCTION {schema}.bump_view_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {schema}.view_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END
        $$
        """,
    ]
    bump = f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bump_view_version()"
    for table in watched:
        statements += [
            f"CREATE TRIGGER {table}_bump_view_version AFTER INSERT OR UPDATE OR DELETE"
            f" ON {schema}.{table} {bump}",
            f"CREATE TRIGGER {table}_bump_view_version_truncate AFTER TRUNCATE"
            f" ON {schema}.{table} {bump}",
        ]
    return statements


def drop_version_table(schema: str, *, watched: Sequence[str]) -> list[str]:
    statements = []
    for table in watched:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_bump_view_version_truncate ON {schema}.{table}",
            f"DROP TRIGGER IF EXISTS {table}_bump_view_version ON {schema}.{table}",
        ]
    return [
        *statements,
        f"DROP FUNCTION IF EXISTS {schema}.bump_view_version()",
        f"DROP TABLE IF EXISTS {schema}.view_version",
    ]
