"""docs/er-diagram.md is what tools/er_diagram.py renders from the migrated schemas.

`make er-diagram` (EDVENT_WRITE_ER_DIAGRAM=1) rewrites the file instead of comparing.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from psycopg import sql

from edvent_localstack.postgres import PostgresServer, provision_service, service_database
from edvent_localstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "docs" / "er-diagram.md"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("er_diagram", ROOT / "tools" / "er_diagram.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["er_diagram"] = module
    spec.loader.exec_module(module)
    return module


er_diagram = _load_tool()


@pytest.fixture(scope="module")
def migrated(postgres: PostgresServer) -> Iterator[str]:
    """A scratch database with every service migrated, as each service's own role."""
    database = f"er_diagram_{secrets.token_hex(4)}"
    with psycopg.connect(postgres.admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        admin_dsn = postgres.admin_dsn(database)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS extensions")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA extensions")
            conn.execute("GRANT USAGE ON SCHEMA extensions TO PUBLIC")
        for service in SERVICES:
            # Roles of their own (roles are cluster-wide): the session's real ones keep
            # their passwords. Migrated as the migrator, as everywhere.
            real = service_database(service)
            owner = replace(real, role=f"{real.role}_er_{secrets.token_hex(2)}")
            provision_service(admin_dsn, owner, database=database)
            result = SERVICES[service].run(
                "migrate", database_url=postgres.migrator_url(owner, database=database)
            )
            assert result.returncode == 0, result.stderr
        yield admin_dsn
    finally:
        with psycopg.connect(postgres.admin_dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def test_every_jsonb_column_and_reference_table_is_explained(migrated: str) -> None:
    assert er_diagram.missing_annotations(er_diagram.read_all(migrated)) == []


def test_the_committed_diagram_is_current(migrated: str) -> None:
    rendered = er_diagram.render(er_diagram.read_all(migrated))
    if os.environ.get("EDVENT_WRITE_ER_DIAGRAM") == "1":
        DIAGRAM.write_text(rendered)
    assert DIAGRAM.exists() and DIAGRAM.read_text() == rendered, (
        "docs/er-diagram.md is stale: run `make er-diagram`"
    )
