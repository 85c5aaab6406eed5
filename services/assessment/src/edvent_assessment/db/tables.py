"""The assessment service's tables, in the `assessment` schema (migration 0003 creates
them, with the trigger that keeps closed attempts immutable)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_platform.db import service_metadata
from edvent_platform.view_cache import version_table

metadata = service_metadata("assessment")


class Base(DeclarativeBase):
    metadata = metadata


class User(Base):
    """identity's users as assessment needs them: filled from identity.users events and
    from valid tokens (a token proves its user exists), so attempts can point here."""

    __tablename__ = "users"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # As identity sends it, unchecked: a role added later must not break this reader.
    role: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    role_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Tokens issued before this no longer count (identity's `user.sessions_revoked`).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by `user.deleted`: the row stays as a pseudonym, with no email or name.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Course(Base):
    """content's courses as assessment needs them (who owns each, whether students see
    it), from content.courses.

    `owner_id` has no foreign key: the owner's identity event travels on another topic
    and may arrive later than the course's."""

    __tablename__ = "courses"
    # The exam list of an instructor filters on the courses they own.
    __table_args__ = (Index("ix_courses_owner_id", "owner_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[UUID]
    title: Mapped[str] = mapped_column(Text)
    # Null while a draft, and again after `course.unpublished`.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # `course.archived`: hidden from students, its exams take no new attempts.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Exam(Base):
    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("duration_seconds > 0", name="duration_positive"),
        CheckConstraint(
            "passing_score_percent BETWEEN 0 AND 100", name="passing_score_percent_range"
        ),
        CheckConstraint("jsonb_typeof(config) = 'object'", name="config_object"),
        CheckConstraint("status IN ('draft', 'published')", name="status_known"),
        CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)", name="published_has_time"
        ),
        Index("ix_exams_course_id_created_at", "course_id", "created_at", "id"),
        Index("ix_exams_created_at_id", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    # RESTRICT: content never deletes courses; an exam must not vanish with one.
    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    passing_score_percent: Mapped[int] = mapped_column(Integer)
    # Validated by `domain.exams.ExamConfig` before it is written.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(Text, server_default="draft")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its questions were last calibrated (the item bank cache's key with the id).
    calibrated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("exam_id", "position", name="uq_questions_exam_id_position"),
        CheckConstraint("char_length(prompt) BETWEEN 1 AND 10000", name="prompt_length"),
        CheckConstraint("kind IN ('single_choice', 'multiple_choice')", name="kind_known"),
        CheckConstraint("jsonb_typeof(options) = 'array'", name="options_array"),
        CheckConstraint(
            "jsonb_typeof(correct_option_ids) = 'array'"
            " AND jsonb_array_length(correct_option_ids) >= 1",
            name="correct_option_ids_array",
        ),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint(
            "discrimination IS NULL OR discrimination > 0", name="discrimination_positive"
        ),
        CheckConstraint(
            "(calibrated_difficulty IS NULL) = (calibration_sample_size IS NULL)"
            " AND (calibrated_difficulty IS NOT NULL OR calibrated_discrimination IS NULL)",
            name="calibration_complete",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    # CASCADE: questions are part of their exam (exams with attempts cannot be deleted).
    exam_id: Mapped[UUID] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    # [{"id": "a", "text": "..."}, ...]
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    correct_option_ids: Mapped[list[str]] = mapped_column(JSONB)
    points: Mapped[int] = mapped_column(Integer, server_default="1")
    difficulty: Mapped[float] = mapped_column(Float, server_default="0")
    # The author's IRT discrimination (2PL); null is 1.
    discrimination: Mapped[float | None] = mapped_column(Float)
    # Estimated from completed attempts by `edvent-assessment calibrate`, beside the
    # author's values; used for selection once the sample is large enough (a setting).
    calibrated_difficulty: Mapped[float | None] = mapped_column(Float)
    calibrated_discrimination: Mapped[float | None] = mapped_column(Float)
    calibration_sample_size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attempt(Base):
    """The log of exam attempts: a row is written when a student starts, completed or
    expired once, and never changes afterwards (a trigger refuses it)."""

    __tablename__ = "exam_attempts"
    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'completed', 'expired')", name="status_known"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint(
            "(status = 'in_progress') = (completed_at IS NULL)"
            " AND (status = 'in_progress') = (score IS NULL)"
            " AND (status = 'in_progress') = (passed IS NULL)",
            name="closed_has_result",
        ),
        CheckConstraint("deadline > started_at", name="deadline_after_start"),
        CheckConstraint("jsonb_typeof(answer_sheet) = 'array'", name="answer_sheet_array"),
        CheckConstraint("ability IS NULL OR status <> 'in_progress'", name="ability_closed"),
        CheckConstraint(
            "(ability IS NULL) = (standard_error IS NULL)", name="ability_with_standard_error"
        ),
        Index(
            "uq_exam_attempts_open",
            "exam_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
        ),
        Index(
            "ix_exam_attempts_open_deadline",
            "deadline",
            postgresql_where=text("status = 'in_progress'"),
        ),
        Index("ix_exam_attempts_exam_id_started_at", "exam_id", "started_at", "id"),
        Index("ix_exam_attempts_user_id_started_at", "user_id", "started_at", "id"),
        # A student's attempts at one exam: counted at each start, grouped by grades.
        Index("ix_exam_attempts_exam_id_user_id", "exam_id", "user_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    exam_id: Mapped[UUID] = mapped_column(ForeignKey("exams.id", ondelete="RESTRICT"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(Text, server_default="in_progress")
    score: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None]
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A list of `domain.sheets.SheetItem` documents, one per question as served.
    answer_sheet: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Adaptive attempts, once completed: the final ability estimate (logits) and its SE.
    ability: Mapped[float | None] = mapped_column(Float)
    standard_error: Mapped[float | None] = mapped_column(Float)
    # The seed the question and option order was drawn with (`domain.shuffle`); null
    # for attempts started before shuffling existed.
    shuffle_seed: Mapped[int | None] = mapped_column(BigInteger)


class ExamAnalytics(Base):
    """One document per exam, kept up to date by consuming attempt.completed."""

    __tablename__ = "exam_analytics"

    exam_id: Mapped[UUID] = mapped_column(
        ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# One row: a counter triggers on courses, exams and questions bump with every write
# (migration 0008), so the cache of students' views knows when it is stale.
view_version = version_table(metadata)
