"""The catalogue version (migration 0004), read by every anonymous catalogue request.

Through a small psycopg pool of its own, not SQLAlchemy's engine: this one statement
runs on every request of the busiest route, and SQLAlchemy's async layers cost twice
what the statement itself does (bench/RESULTS.md, the gateway load).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

from edvent_platform.db import libpq_url

QUERY = "SELECT version FROM catalogue_version"
# The version and, in the same round trip, what decides a signed-in caller's view: the
# users reference row (`edvent_platform.reference_users`), if there is one.
WITH_USER_QUERY = (
    "SELECT v.version, u.role, u.role_changed_at, u.not_before, u.deleted_at"
    " FROM catalogue_version v LEFT JOIN users u ON u.id = %s"
)


class CatalogueVersion:
    def __init__(self, *, database_url: str, schema: str, app_name: str, size: int = 4) -> None:
        self.pool = AsyncConnectionPool(
            libpq_url(database_url),
            min_size=1,
            max_size=size,
            open=False,
            name=f"{app_name}-catalogue-version",
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
        # Short: while the database is away each anonymous list waits this long
        # before it is answered (or refused) the way it would be without the cache.
        async with self.pool.connection(timeout=1.0) as conn:
            cursor = await conn.execute(QUERY)
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("the catalogue_version row is missing")
        version: int = row[0]
        return version

    async def read_with_user(self, user_id: UUID) -> tuple[int, UserRow | None]:
        """The version now and the user's reference row (None: not heard of yet)."""
        async with self.pool.connection(timeout=1.0) as conn:
            cursor = await conn.execute(WITH_USER_QUERY, (user_id,))
            row = await cursor.fetchone()
        if row is None:
            raise LookupError("the catalogue_version row is missing")
        version, role, role_changed_at, not_before, deleted_at = row
        if role is None:
            return version, None
        return version, UserRow(role, role_changed_at, not_before, deleted_at is not None)


@dataclass(frozen=True, slots=True)
class UserRow:
    role: str
    role_changed_at: datetime | None
    not_before: datetime | None
    deleted: bool
