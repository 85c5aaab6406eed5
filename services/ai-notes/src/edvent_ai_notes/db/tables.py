"""The ai-notes service's tables, in the `ai_notes` schema (migration 0003 is their DDL)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_ai_notes.config import EMBEDDING_DIMENSIONS
from edvent_ai_notes.db.vectors import Embedding
from edvent_platform.db import service_metadata
from edvent_platform.view_cache import version_table

metadata = service_metadata("ai_notes")


# From content.courses: who owns a course, whether it is published, archived. Each
# change keeps its time, so a late event never undoes a newer one (migration 0004).
# Published: published_at set and not unpublished since.
courses = Table(
    "courses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid),  # null: known only from an unpublish or archive event
    Column("title", Text, nullable=False),
    Column("owner_changed_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("unpublished_at", DateTime(timezone=True)),
    Column("archived_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_courses_owner_id", "owner_id"),
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
    # lesson.unpublished: hidden from students unless published again after it.
    Column("unpublished_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_lessons_course_id", "course_id"),
)

# lesson.deleted: the lesson, its note and chunks are gone; a late lesson.published
# for it does nothing.
lesson_tombstones = Table(
    "lesson_tombstones",
    metadata,
    Column("lesson_id", Uuid, primary_key=True),
    Column("course_id", Uuid, nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=False),
)


class Base(DeclarativeBase):
    metadata = metadata


class User(Base):
    """identity's users as access needs them (edvent_platform.reference_users): the role
    that counts now, the session cut-off, the erasure mark. email and full_name exist
    for the shared code and stay empty: ai-notes does not consume user.registered."""

    __tablename__ = "users"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    role_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Notes to make outside the consumer, one per lesson at most (migration 0005).
note_jobs = Table(
    "note_jobs",
    metadata,
    Column(
        "lesson_id", Uuid, ForeignKey("ai_notes.lessons.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("reason", Text, nullable=False),  # regenerate | budget
    Column("requested_by", Uuid),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("run_after", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_note_jobs_run_after", "run_after"),
    CheckConstraint("reason IN ('regenerate', 'budget')", name="reason"),
    CheckConstraint("attempts >= 0", name="attempts"),
)

# Fixed-window counters every replica shares.
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("key", Text, primary_key=True),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("hits", Integer, nullable=False),
)

# Tokens and requests spent per provider and UTC day (the daily budget).
token_usage = Table(
    "token_usage",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("tokens", BigInteger, nullable=False, server_default="0"),
    Column("requests", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("tokens >= 0", name="tokens"),
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
    Column("embedding", Embedding(EMBEDDING_DIMENSIONS), nullable=False),
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

# How many public chunks hold each word, and how many there are, in each course
# (`scope`: its id) and in the whole catalogue (`scope`: the nil UUID): the
# search's IDF and the words that may pull candidates in (usecases/search.py).
# Recounted by the refresh job when term_stats_changes has rows, which triggers on
# lessons, courses and lesson_chunks add (migration 0006).
term_stats = Table(
    "term_stats",
    metadata,
    Column("scope", Uuid, primary_key=True),
    Column("word", Text, primary_key=True),
    Column("chunks", Integer, nullable=False),
    CheckConstraint("chunks > 0", name="chunks"),
)

term_stats_totals = Table(
    "term_stats_totals",
    metadata,
    Column("scope", Uuid, primary_key=True),
    Column("chunks", Integer, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("chunks >= 0", name="chunks"),
)

term_stats_changes = Table(
    "term_stats_changes",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# "Notes mentioning X", ignoring case: see db/notes.py, concept_filter.
Index(
    "ix_ai_notes_key_concepts",
    cast(func.lower(cast(ai_notes.c.key_concepts, Text)), JSONB),
    postgresql_using="gin",
    postgresql_ops={"anon_1": "jsonb_path_ops"},
)


# One row: a counter triggers on courses, lessons and ai_notes bump with every write
# (migration 0007), so the cache of students' views knows when it is stale.
view_version = version_table(metadata)
