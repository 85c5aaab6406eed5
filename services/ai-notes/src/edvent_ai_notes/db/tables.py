"""The ai-notes service's tables, in the `ai_notes` schema (migration 0003 is their DDL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    cast,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.types import UserDefinedType

from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_platform.db import service_metadata

metadata = service_metadata("ai_notes")


class Vector(UserDefinedType[list[float]]):
    """pgvector's `vector(n)`, sent and read as its text form `[x,y,...]`."""

    cache_ok = True

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions

    def get_col_spec(self, **kw: Any) -> str:
        return f"vector({self.dimensions})"

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Sequence[float] | None) -> str | None:
            return None if value is None else vector_literal(value)

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: str | None) -> list[float] | None:
            return None if value is None else [float(x) for x in value.strip("[]").split(",")]

        return process


def vector_literal(values: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"


# From content.courses: who owns a course (regenerate is for the owner and admins).
courses = Table(
    "courses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False),
    Column("title", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# From content.lessons: the newest published state of each lesson seen.
lessons = Table(
    "lessons",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("course_id", Uuid, nullable=False),
    Column("title", Text, nullable=False),
    Column("order_index", Integer, nullable=False),
    Column("content_key", Text, nullable=False),
    Column("content_sha256", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_lessons_course_id", "course_id"),
)

ai_notes = Table(
    "ai_notes",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=func.gen_random_uuid()),
    Column(
        "lesson_id",
        Uuid,
        ForeignKey("ai_notes.lessons.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("status", Text, nullable=False),  # pending | ready | failed
    Column("failure_reason", Text),
    Column("summary_markdown", Text),
    Column("key_concepts", JSONB, nullable=False, server_default="[]"),
    Column("model", Text),
    # The body the stored summary was made from (ready), or is being made from.
    Column("content_sha256", Text, nullable=False),
    Column("prompt_tokens", Integer, nullable=False, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, server_default="0"),
    Column("generated_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('pending', 'ready', 'failed')", name="status"),
    CheckConstraint(
        "status <> 'ready' OR (summary_markdown IS NOT NULL AND generated_at IS NOT NULL)",
        name="ready_has_summary",
    ),
    CheckConstraint("jsonb_typeof(key_concepts) = 'array'", name="key_concepts_array"),
)

lesson_chunks = Table(
    "lesson_chunks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "lesson_id",
        Uuid,
        ForeignKey("ai_notes.lessons.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("course_id", Uuid, nullable=False),
    Column("position", Integer, nullable=False),
    Column("heading_path", ARRAY(Text), nullable=False),
    Column("text", Text, nullable=False),
    Column("embedding", Vector(EMBEDDING_DIMENSIONS), nullable=False),
    # The headings (weight A) and the text (weight B), 'english' configuration.
    Column("search_vector", TSVECTOR, nullable=False),
    UniqueConstraint("lesson_id", "position", name="uq_lesson_chunks_lesson_id_position"),
    Index("ix_lesson_chunks_course_id", "course_id"),
    Index(
        "ix_lesson_chunks_embedding",
        "embedding",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    ),
    Index("ix_lesson_chunks_search_vector", "search_vector", postgresql_using="gin"),
)

# "Notes mentioning X", ignoring case: see db/notes.py, concept_filter.
Index(
    "ix_ai_notes_key_concepts",
    cast(func.lower(cast(ai_notes.c.key_concepts, Text)), JSONB),
    postgresql_using="gin",
    postgresql_ops={"anon_1": "jsonb_path_ops"},
)
