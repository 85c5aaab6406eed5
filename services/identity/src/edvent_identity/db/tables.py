"""Identity's tables, in the `identity` schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, ENUM, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from edvent_identity.domain.users import Role
from edvent_platform.db import service_metadata

metadata = service_metadata("identity")

ROLE = ENUM(
    Role,
    name="user_role",
    values_callable=lambda roles: [role.value for role in roles],
    metadata=metadata,
    create_type=False,
)


class Base(DeclarativeBase):
    metadata = metadata


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Stored lower-case so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("char_length(email) BETWEEN 3 AND 254", name="email_length"),
        CheckConstraint("char_length(full_name) BETWEEN 1 AND 200", name="full_name_length"),
        # Keyset pagination of GET /users, newest first.
        Index("ix_users_created_at_id", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    email: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(ROLE, server_default=Role.STUDENT.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Access tokens issued before this moment are refused (every session ended).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        CheckConstraint("octet_length(token_hash) = 32", name="token_hash_sha256"),
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_user_id", "user_id"),
        Index("ix_refresh_tokens_expires_at", "expires_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    family_id: Mapped[UUID]
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When the family's login happened; its absolute lifetime counts from here.
    family_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed (or in-flight) login, per email ('email'), per client address
    ('client') and per email and client address ('account_client', subject
    "<email> <address>"); and one registration attempt per client address ('register')."""

    __tablename__ = "login_failures"
    __table_args__ = (
        CheckConstraint(
            "scope IN ('email', 'client', 'register', 'reset_email', 'reset_client',"
            " 'account_client')",
            name="scope_known",
        ),
        Index("ix_login_failures_scope_subject_failed_at", "scope", "subject", "failed_at"),
        Index("ix_login_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    scope: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CourseOwner(Base):
    """Who owns each course, as content's events (`content.courses`) say. identity
    needs it for one rule: an account that still owns a course is not erased."""

    __tablename__ = "course_owners"
    __table_args__ = (Index("ix_course_owners_owner_id", "owner_id"),)

    course_id: Mapped[UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[UUID]
    # When content said so (course created or owner changed).
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserDataKey(Base):
    """The key that encrypts the user's personal fields in events (edvent_events.pii).

    Deleted at erasure, with a tombstone on `identity.user-keys`: the ciphertext left
    on Kafka and in other services' copies can no longer be read."""

    __tablename__ = "user_data_keys"
    __table_args__ = (CheckConstraint("octet_length(key) = 32", name="key_aes_256"),)

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SigningKey(Base):
    """Access-token signing keys. The one row with `retired_at IS NULL` signs."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        CheckConstraint("algorithm IN ('EdDSA', 'RS256')", name="algorithm_known"),
        Index(
            "uq_signing_keys_one_active",
            text("(retired_at IS NULL)"),
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    algorithm: Mapped[str] = mapped_column(Text)
    # NULL for a key given in configuration (its private half stays there) and for a
    # retired key past its retention.
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OneTimeToken(Base):
    """A password-reset or email-verification token, stored only as its SHA-256."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint("octet_length(token_hash) = 32", name="token_hash_sha256"),
        CheckConstraint("purpose IN ('password_reset', 'verify_email')", name="purpose_known"),
        Index("ix_one_time_tokens_user_id_purpose", "user_id", "purpose"),
        Index("ix_one_time_tokens_expires_at", "expires_at"),
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailMessage(Base):
    """An email to send, written in the transaction of the change that causes it.

    The sender claims a due row (pushing `next_attempt_at` past its SMTP timeout, so no
    other sender takes it meanwhile), sends it with a Message-ID made from `id`, and
    marks it sent, dropping the bodies (a link in them may carry a live token).
    """

    __tablename__ = "email_outbox"
    __table_args__ = (
        Index(
            "ix_email_outbox_due",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_email_outbox_user_id", "user_id"),
        Index("ix_email_outbox_created_at", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserExport(Base):
    """A user's request for a copy of their data (edvent_events.exports).

    The private key opens the parts the services seal to its public half; the row (and
    with it every way to read those parts) goes when the download expires."""

    __tablename__ = "user_exports"
    __table_args__ = (
        CheckConstraint("octet_length(private_key) = 32", name="private_key_x25519"),
        Index("ix_user_exports_user_id_requested_at", "user_id", "requested_at"),
        Index("ix_user_exports_requested_at", "requested_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The services whose parts make the export complete (IDENTITY_EXPORT_SERVICES then).
    services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserExportPart(Base):
    """One chunk of one service's sealed part of an export, as it came from Kafka."""

    __tablename__ = "user_export_parts"
    __table_args__ = (CheckConstraint("chunk >= 0 AND chunk < chunks", name="chunk_in_range"),)

    export_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_exports.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(Text, primary_key=True)
    chunk: Mapped[int] = mapped_column(primary_key=True)
    chunks: Mapped[int]
    sealed: Mapped[str] = mapped_column(Text)
    exported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
