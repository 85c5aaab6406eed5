"""Database engine and session setup shared by the services (SQLAlchemy on psycopg 3)."""

from __future__ import annotations

import re
import select
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import REGISTRY, Metric
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg import pq
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

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
    one that is closed again on return (connecting costs far more than waiting). Each
    checkout makes sure the connection is alive (`_alive_at_checkout`): without that,
    the first request to use a pool after PostgreSQL restarted failed with 503, however
    long after the outage, once per pool (a service has two, and one may sit idle for
    hours). The hottest read, the anonymous catalogue, does not go through these pools.
    `pool_recycle` retires connections before idle timeouts elsewhere do.
    """
    engine = create_async_engine(
        psycopg_url(url),
        poolclass=MeasuredPool,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        connect_args={
            "options": f"-c search_path={schema},extensions"
            + (" -c default_transaction_read_only=on" if read_only else ""),
            "application_name": app_name,
        },
        **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
    )
    _POOLS.add(engine.sync_engine, "read" if read_only else "write")
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _alive_at_checkout)
    return engine


# A connection idle longer than this gets a real ping at checkout: a peer that vanished
# without closing the socket (a NAT or firewall timeout) shows only to a round trip.
PING_WHEN_IDLE_SECONDS = 30.0


def _note_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _alive_at_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
    """Refuse a dead connection before a request gets it, without a round trip when it
    was used moments ago.

    SQLAlchemy's `pool_pre_ping` sends `SELECT 1` at every checkout: one round trip in
    seven of an exam submit, and a context switch to PostgreSQL each time on a busy
    machine (bench/HISTORY.md). An idle connection has nothing to read, so a socket that
    is readable means the server closed it (a restart, `pg_terminate_backend`: its
    goodbye or EOF is waiting) and the pool takes another. Only a connection idle for
    longer than PING_WHEN_IDLE_SECONDS is pinged as before.
    """
    if _server_closed(dbapi_connection.driver_connection):
        raise DisconnectionError("the server closed the idle connection")
    idle_since = record.info.get("checked_in_at")
    if idle_since is not None and time.monotonic() - idle_since > PING_WHEN_IDLE_SECONDS:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        except Exception as exc:
            raise DisconnectionError(f"the ping failed: {exc}") from exc
        finally:
            cursor.close()


def _server_closed(connection: Any) -> bool:
    """Whether psycopg's connection is closed, or its socket readable while idle."""
    if connection.closed or connection.pgconn.status != pq.ConnStatus.OK:
        return True
    poller = select.poll()
    poller.register(connection.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class MeasuredPool(AsyncAdaptedQueuePool):
    """The default pool of async engines, counting who waits for a connection."""

    waiting = 0

    def _do_get(self) -> ConnectionPoolEntry:
        # Runs while the caller waits: a full pool blocks in here.
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


class _PoolCollector(Collector):
    """`/metrics`: connections in use and requests waiting, per pool (`write`, `read`),
    read from every live engine of the process when scraped."""

    def __init__(self) -> None:
        self._engines: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()

    def add(self, engine: Engine, name: str) -> None:
        self._engines[engine] = name

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "db_pool_connections_in_use", "Connections checked out of the pool", labels=["pool"]
        )
        waiting = GaugeMetricFamily(
            "db_pool_waiting", "Callers waiting for a connection of the pool", labels=["pool"]
        )
        size = GaugeMetricFamily("db_pool_size", "Connections the pool may hold", labels=["pool"])
        totals: dict[str, list[int]] = {}
        for engine, name in list(self._engines.items()):
            pool = engine.pool
            if not isinstance(pool, MeasuredPool):
                continue
            total = totals.setdefault(name, [0, 0, 0])
            total[0] += pool.checkedout()
            total[1] += pool.waiting
            total[2] += pool.size()
        for name, (used, queued, capacity) in sorted(totals.items()):
            in_use.add_metric([name], used)
            waiting.add_metric([name], queued)
            size.add_metric([name], capacity)
        yield from (in_use, waiting, size)


_POOLS = _PoolCollector()
REGISTRY.register(_POOLS)


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
