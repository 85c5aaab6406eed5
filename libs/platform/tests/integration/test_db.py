"""The services' engine on psycopg 3, against the real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from edvent_platform.db import create_engine

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
