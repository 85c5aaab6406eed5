"""Every service's migrations go up, all the way down, and up again, on their own.

Platform engineers migrate and roll back each service independently; this runs each
service's real `migrate`/`downgrade` commands as its migrator role (the schema's
owner), in a database of its own so the session's shared schemas are untouched.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql

from edvent_localstack.postgres import PostgresServer, provision_service, service_database
from edvent_localstack.services import SERVICES


def run(service: str, url: str, *args: str) -> None:
    result = SERVICES[service].run(*args, database_url=url)
    assert result.returncode == 0, result.stderr


def tables(admin_dsn: str, schema: str) -> set[str]:
    with psycopg.connect(admin_dsn) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("service", list(SERVICES))
def test_migrations_upgrade_downgrade_and_upgrade_again(postgres: PostgresServer, service):
    database = f"migrations_{secrets.token_hex(4)}"
    # A role of its own, so the session's real role keeps its password.
    real = service_database(service)
    owner = replace(real, role=f"{real.role}_mig_{secrets.token_hex(2)}")
    with psycopg.connect(postgres.admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        admin_dsn = postgres.admin_dsn(database)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS extensions")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA extensions")
            conn.execute("GRANT USAGE ON SCHEMA extensions TO PUBLIC")
        provision_service(admin_dsn, owner, database=database)
        url = postgres.migrator_url(owner, database=database)

        run(service, url, "migrate")
        migrated = tables(admin_dsn, owner.schema)
        assert {"outbox", "inbox", "dead_letters", "alembic_version"} <= migrated
        run(service, url, "downgrade", "base")
        assert tables(admin_dsn, owner.schema) <= {"alembic_version"}
        run(service, url, "migrate")
        assert tables(admin_dsn, owner.schema) == migrated
    finally:
        with psycopg.connect(postgres.admin_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database)))  # fmt: skip
            for role in (owner.role, owner.migrator_role):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
