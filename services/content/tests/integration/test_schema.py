"""The migrations and the table definitions describe the same schema."""

from __future__ import annotations

from edvent_content.db.tables import metadata
from edvent_localstack.testing import assert_migrations_match


def test_migrations_match_the_tables(admin_dsn) -> None:
    assert_migrations_match(admin_dsn, schema="content", metadata=metadata)
