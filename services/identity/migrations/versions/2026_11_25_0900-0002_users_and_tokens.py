"""users, refresh tokens, login failures and signing keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"CREATE TYPE {schema}.user_role AS ENUM ('STUDENT', 'INSTRUCTOR', 'ADMIN')",
        f"""
        CREATE TABLE {schema}.users (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            email text NOT NULL,
            full_name text NOT NULL,
            password_hash text NOT NULL,
            role {schema}.user_role NOT NULL DEFAULT 'STUDENT',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_users PRIMARY KEY (id),
            CONSTRAINT uq_users_email UNIQUE (email),
            CONSTRAINT ck_users_email_lower_case CHECK (email = lower(email)),
            CONSTRAINT ck_users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
            CONSTRAINT ck_users_full_name_length CHECK (char_length(full_name) BETWEEN 1 AND 200)
        )
        """,
        f"CREATE INDEX ix_users_created_at_id ON {schema}.users (created_at, id)",
        f"""
        CREATE TABLE {schema}.refresh_tokens (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            token_hash bytea NOT NULL,
            family_id uuid NOT NULL,
            user_id uuid NOT NULL,
            issued_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            rotated_at timestamptz,
            revoked_at timestamptz,
            CONSTRAINT pk_refresh_tokens PRIMARY KEY (id),
            CONSTRAINT uq_refresh_tokens_token_hash UNIQUE (token_hash),
            CONSTRAINT ck_refresh_tokens_token_hash_sha256 CHECK (octet_length(token_hash) = 32),
            CONSTRAINT fk_refresh_tokens_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE CASCADE
        )
        """,
        f"CREATE INDEX ix_refresh_tokens_family_id ON {schema}.refresh_tokens (family_id)",
        f"CREATE INDEX ix_refresh_tokens_user_id ON {schema}.refresh_tokens (user_id)",
        f"CREATE INDEX ix_refresh_tokens_expires_at ON {schema}.refresh_tokens (expires_at)",
        f"""
        CREATE TABLE {schema}.login_failures (
            id bigint GENERATED ALWAYS AS IDENTITY,
            scope text NOT NULL,
            subject text NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_login_failures PRIMARY KEY (id),
            CONSTRAINT ck_login_failures_scope_known CHECK (scope IN ('email', 'client'))
        )
        """,
        f"""
        CREATE INDEX ix_login_failures_scope_subject_failed_at
            ON {schema}.login_failures (scope, subject, failed_at)
        """,
        f"CREATE INDEX ix_login_failures_failed_at ON {schema}.login_failures (failed_at)",
        f"""
        CREATE TABLE {schema}.signing_keys (
            kid text NOT NULL,
            algorithm text NOT NULL,
            private_key_pem text,
            public_jwk jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz,
            CONSTRAINT pk_signing_keys PRIMARY KEY (kid),
            CONSTRAINT ck_signing_keys_algorithm_known CHECK (algorithm IN ('EdDSA', 'RS256'))
        )
        """,
        # At most one key signs at a time.
        f"""
        CREATE UNIQUE INDEX uq_signing_keys_one_active
            ON {schema}.signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for table in ("signing_keys", "login_failures", "refresh_tokens", "users"):
        op.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
    op.execute(f"DROP TYPE IF EXISTS {schema}.user_role")
