"""The catalogue version (migration 0004), read by every anonymous catalogue request.

Through a small psycopg pool of its own, not SQLAlchemy's engine: this one statement
runs on every request of the busiest route, and SQLAlchemy's async layers cost twice
what the statement itself does (bench/RESULTS.md, the gateway load).
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from edvent_platform.db import libpq_url

QUERY = "SELECT version FROM catalogue_version"


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
