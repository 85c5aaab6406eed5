"""learning-records' tables, in the `learning_records` schema (migration 0003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_platform.db import service_metadata

metadata = service_metadata("learning_records")


class Base(DeclarativeBase):
    metadata = metadata


class Statement(Base):
    """Every statement the service made: waiting (`sent_at` null) until the LRS took it.

    Rows stay after sending, so an erasure knows which statements to void."""

    __tablename__ = "statements"
    __table_args__ = (
        # The sender's queue: waiting rows in the order they were made.
        Index(
            "ix_statements_waiting",
            "next_attempt_at",
            "seq",
            postgresql_where=text("sent_at IS NULL"),
        ),
        Index("ix_statements_user_id", "user_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # Sending order: an attempt's `attempted` goes before its `completed`.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    # The user the statement is about; null for the platform's own (voiding, notes).
    user_id: Mapped[UUID | None] = mapped_column()
    verb: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # When the event it comes from happened (ce_time): the lag is measured from it.
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)


class Course(Base):
    """content's courses as far as statements need them: who owns each (the author of
    its lessons), from content.courses."""

    __tablename__ = "courses"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[UUID] = mapped_column()
    # The time of the newest owner change applied, so an older one never wins.
    owner_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ErasedUser(Base):
    """Users erased at identity (`user.deleted`): nothing more is emitted about them."""

    __tablename__ = "erased_users"

    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
