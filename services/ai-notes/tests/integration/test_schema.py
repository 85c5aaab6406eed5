"""The migrations and the table definitions describe the same schema."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.db.tables import metadata
from edvent_ai_notes.db.vectors import Embedding
from edvent_localstack.testing import assert_migrations_match

# A type reflection cannot read is left out of the comparison, with this warning.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")


def test_migrations_match_the_tables(admin_dsn) -> None:
    assert_migrations_match(
        admin_dsn, schema="ai_notes", metadata=metadata, types={"vector": Embedding}
    )


def test_the_embeddings_dimensions_are_compared(admin_dsn) -> None:
    other = MetaData(schema=metadata.schema)
    for table in metadata.tables.values():
        table.to_metadata(other)
    other.tables["ai_notes.lesson_chunks"].c.embedding.type = Embedding(EMBEDDING_DIMENSIONS + 1)
    with pytest.raises(AssertionError, match="embedding"):
        assert_migrations_match(
            admin_dsn, schema="ai_notes", metadata=other, types={"vector": Embedding}
        )
