"""The content service's tables, in the `content` schema (migration 0003 creates them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_platform.db import service_metadata
from edvent_platform.view_cache import version_table

metadata = service_metadata("content")


class Base(DeclarativeBase):
    metadata = metadata


class User(Base):
    """identity's users as content needs them: filled from identity.users events and
    from valid tokens (a token proves its user exists)."""

    __tablename__ = "users"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # Stored as identity sends it, with no check: a role added to identity later must
    # not make this reader fail (rights come from the token's role, not from here).
    role: Mapped[str] = mapped_column(Text)
    # Known once the registration event arrived; a token carries neither.
    email: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    # The time of the newest role change applied, so an older one never wins.
    role_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Tokens issued before this no longer count (identity's `user.sessions_revoked`).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by `user.deleted`: the row stays as a pseudonym, with no email or name.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("char_length(description) <= 10000", name="description_length"),
        CheckConstraint("is_published = (published_at IS NOT NULL)", name="published_has_time"),
        Index("ix_courses_is_published", "is_published"),
        Index("ix_courses_owner_id", "owner_id"),
        # Keyset pagination, newest first.
        Index("ix_courses_created_at_id", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    is_published: Mapped[bool] = mapped_column(server_default="false")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once by archiving (migration 0006), never cleared: hidden from all but the
    # owner and ADMIN whatever `is_published` says.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # RESTRICT: an erased user's row stays (a pseudonym), and identity refuses to erase
    # someone who still owns courses; an ADMIN moves them first (PATCH owner_id).
    owner_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "order_index", name="uq_lessons_course_id_order_index"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("order_index >= 0", name="order_index_not_negative"),
        CheckConstraint("char_length(content_url) > 0", name="content_url_not_empty"),
        CheckConstraint("content_sha256 ~ '^[0-9a-f]{64}$'", name="content_sha256_hex"),
        CheckConstraint("content_bytes > 0", name="content_bytes_positive"),
        Index("ix_lessons_course_id", "course_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    # CASCADE: lessons are part of their course; their objects become garbage that
    # `edvent-content gc-objects` removes.
    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    order_index: Mapped[int] = mapped_column(Integer)
    # The S3 object key of the current body (the API's `content_url`).
    content_url: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(Text)
    content_bytes: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# One row: a counter triggers on `courses` and `lessons` bump with every write
# (migration 0007), so the cache of students' views knows when it is stale.
view_version = version_table(metadata)
