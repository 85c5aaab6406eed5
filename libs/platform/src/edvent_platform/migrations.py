"""The body of every service's Alembic `env.py`: same rules, one place.

Migrations run as the service's own role, so they can only touch its schema; the
version table lives in that schema too, so services migrate independently.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from edvent_platform.db import psycopg_url


def run_migrations(*, metadata: MetaData, schema: str, url: str) -> None:
    if context.is_offline_mode():
        context.configure(
            url=psycopg_url(url),
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=False,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(metadata=metadata, schema=schema, url=url))


def _configure_and_run(connection: Connection, metadata: MetaData, schema: str) -> None:
    connection.execute(text(f'SET search_path TO "{schema}", extensions'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=False,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(*, metadata: MetaData, schema: str, url: str) -> None:
    engine = create_async_engine(psycopg_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_configure_and_run, metadata, schema)
            await conn.commit()
    finally:
        await engine.dispose()
