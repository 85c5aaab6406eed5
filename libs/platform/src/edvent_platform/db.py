"""Database engine and session setup shared by the services (SQLAlchemy on psycopg 3)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Stable constraint names, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_POSTGRES_URL = re.compile(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://")


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def psycopg_url(url: str) -> str:
    """The SQLAlchemy URL on psycopg 3 (`postgresql+psycopg://`).

    Environments written for the earlier driver keep working: `postgresql+asyncpg://`
    and plain `postgresql://` URLs are rewritten.
    """
    return _POSTGRES_URL.sub("postgresql+psycopg://", url, count=1)


def libpq_url(url: str) -> str:
    """The same URL as libpq and psycopg itself take it (`postgresql://`), for the rare
    connection made without SQLAlchemy."""
    return _POSTGRES_URL.sub("postgresql://", url, count=1)


def create_engine(
    url: str, *, schema: str, pool_size: int = 10, app_name: str, read_only: bool = False
) -> AsyncEngine:
    """An engine whose sessions see only the service's schema by default.

    `read_only`: for requests that only read. Its connections run outside any
    transaction (no BEGIN and COMMIT round trips; under READ COMMITTED each statement
    sees a fresh snapshot either way), and PostgreSQL refuses any write on them.

    A fixed pool: past `pool_size` a request waits for a connection instead of opening
    one that is closed again on return (connecting costs far more than waiting). A ping
    before each checkout (one round trip): without it, the first request to use a pool
    after PostgreSQL restarted failed with 503, however long after the outage, once per
    pool (a service has two, and one may sit idle for hours). The hottest read, the
    anonymous catalogue, does not go through these pools. `pool_recycle` retires
    connections before idle timeouts elsewhere do.
    """
    return create_async_engine(
        psycopg_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "options": f"-c search_path={schema},extensions"
            + (" -c default_transaction_read_only=on" if read_only else ""),
            "application_name": app_name,
        },
        **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def check_database(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The one place a unit of work commits: on success; anything raised rolls back."""
    async with sessions() as session, session.begin():
        yield session
