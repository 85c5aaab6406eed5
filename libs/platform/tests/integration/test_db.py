"""The services' engine on psycopg 3, against the real PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from edvent_platform.db import create_engine, session_factory

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
async def test_a_service_url_connects_through_psycopg_with_its_schema_first(
    postgres, scratch_schema, driver
):
    # `asyncpg`: an environment written before the switch keeps working.
    url = postgres.service_url(scratch_schema).replace("+psycopg", f"+{driver}", 1)
    engine = create_engine(url, schema=scratch_schema.schema, app_name="platform-test")
    try:
        async with engine.connect() as conn:
            search_path, app_name = (
                await conn.execute(
                    text(
                        "SELECT current_setting('search_path'), current_setting('application_name')"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert engine.dialect.driver == "psycopg"
    assert search_path.replace(" ", "") == f"{scratch_schema.schema},extensions"
    assert app_name == "platform-test"


async def test_past_the_pool_size_sessions_wait_for_a_connection_instead_of_opening_more(
    postgres, scratch_schema
):
    # Connections opened beyond the pool and closed again on return cost a full
    # connect (and authentication) each time under load.
    engine = create_engine(
        postgres.service_url(scratch_schema),
        schema=scratch_schema.schema,
        pool_size=2,
        app_name="platform-test",
    )

    async def backend() -> int:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await conn.execute(text("SELECT pg_sleep(0.2)"))
            return int(pid)

    try:
        pids = await asyncio.gather(*(backend() for _ in range(6)))
    finally:
        await engine.dispose()
    assert len(set(pids)) == 2


async def test_a_read_only_engine_runs_each_statement_alone_and_refuses_writes(
    postgres, scratch_schema
):
    url = postgres.service_url(scratch_schema)
    engine = create_engine(url, schema=scratch_schema.schema, app_name="platform-test")
    reader = create_engine(
        url, schema=scratch_schema.schema, app_name="platform-test", read_only=True
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE things (id int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO things VALUES (1)"))
        async with session_factory(reader)() as session:
            # Outside a transaction block each statement is its own transaction, so
            # the transaction id changes; inside one it would stay the same.
            first = (await session.execute(text("SELECT txid_current()"))).scalar_one()
            second = (await session.execute(text("SELECT txid_current()"))).scalar_one()
            count = (await session.execute(text("SELECT count(*) FROM things"))).scalar_one()
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("INSERT INTO things VALUES (2)"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id FROM things"))).scalars().all()
    finally:
        await reader.dispose()
        await engine.dispose()
    assert second != first
    assert count == 1
    assert rows == [1]


@pytest.mark.parametrize("read_only", [False, True])
async def test_a_pool_whose_connections_the_server_dropped_serves_the_next_request(
    postgres, scratch_schema, admin_dsn, read_only
):
    """As after a PostgreSQL restart: the pool's idle connections are dead, and the next
    checkout must not hand one to a request (it would fail with 503)."""
    await _serves_after_its_backends_are_killed(
        postgres, scratch_schema, admin_dsn, "platform-drop-test", read_only=read_only
    )


async def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced_when_dead(
    postgres, scratch_schema, admin_dsn, monkeypatch
):
    """A peer gone without a word (a NAT timeout) leaves the socket quiet: only the ping
    of a long-idle connection finds it. Simulated by hiding the socket's state."""
    from edvent_platform import db

    monkeypatch.setattr(db, "PING_WHEN_IDLE_SECONDS", 0.0)
    monkeypatch.setattr(db, "_server_closed", lambda connection: False)
    await _serves_after_its_backends_are_killed(
        postgres, scratch_schema, admin_dsn, "platform-idle-ping-test"
    )


async def _serves_after_its_backends_are_killed(
    postgres, scratch_schema, admin_dsn, app_name: str, *, read_only: bool = False
) -> None:
    """An engine used once, its connections then terminated by the server: the next
    checkout must still answer."""
    engine = create_engine(
        postgres.service_url(scratch_schema),
        schema=scratch_schema.schema,
        app_name=app_name,
        read_only=read_only,
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (app_name,),
            )
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


def _pool_figures(pool: str) -> tuple[float, float]:
    from prometheus_client import REGISTRY

    in_use = REGISTRY.get_sample_value("db_pool_connections_in_use", {"pool": pool})
    waiting = REGISTRY.get_sample_value("db_pool_waiting", {"pool": pool})
    return in_use or 0.0, waiting or 0.0


async def test_metrics_show_the_pools_connections_in_use_and_the_callers_waiting(
    postgres, scratch_schema
):
    engine = create_engine(
        postgres.service_url(scratch_schema),
        schema=scratch_schema.schema,
        pool_size=1,
        app_name="platform-test",
        read_only=True,  # a pool name no other live engine of this process shares
    )
    before_in_use, before_waiting = _pool_figures("read")
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            assert _pool_figures("read") == (before_in_use + 1, before_waiting)

            async def second() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))

            waiter = asyncio.create_task(second())
            for _ in range(100):
                if _pool_figures("read")[1] == before_waiting + 1:
                    break
                await asyncio.sleep(0.01)
            assert _pool_figures("read") == (before_in_use + 1, before_waiting + 1)
        await asyncio.wait_for(waiter, timeout=5)
        assert _pool_figures("read") == (before_in_use, before_waiting)
    finally:
        await engine.dispose()
