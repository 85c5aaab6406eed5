"""accounts people can manage: verified and disabled users, a session cut-off,
single-use tokens for resets and verification, the email outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

`users.not_before`: access tokens issued before it are refused (sessions revoked).
`one_time_tokens` hold only the SHA-256 of each token. `email_outbox` rows are written
in the transaction of the change that causes them and delivered by the email sender;
a sent row loses its bodies (they may carry a link with a live token).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"""
        ALTER TABLE {schema}.users
            ADD COLUMN email_verified boolean NOT NULL DEFAULT false,
            ADD COLUMN disabled boolean NOT NULL DEFAULT false,
            ADD COLUMN not_before timestamptz
        """,
        # The bootstrap admin counts as verified; an ADMIN could only come from it.
        f"UPDATE {schema}.users SET email_verified = true WHERE role = 'ADMIN'",
        f"""
        CREATE TABLE {schema}.one_time_tokens (
            token_hash bytea NOT NULL,
            user_id uuid NOT NULL,
            purpose text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            CONSTRAINT pk_one_time_tokens PRIMARY KEY (token_hash),
            CONSTRAINT ck_one_time_tokens_token_hash_sha256 CHECK (octet_length(token_hash) = 32),
            CONSTRAINT ck_one_time_tokens_purpose_known
                CHECK (purpose IN ('password_reset', 'verify_email')),
            CONSTRAINT fk_one_time_tokens_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE CASCADE
        )
        """,
        f"""
        CREATE INDEX ix_one_time_tokens_user_id_purpose
            ON {schema}.one_time_tokens (user_id, purpose)
        """,
        f"CREATE INDEX ix_one_time_tokens_expires_at ON {schema}.one_time_tokens (expires_at)",
        f"""
        CREATE TABLE {schema}.email_outbox (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            user_id uuid,
            kind text NOT NULL,
            to_address text NOT NULL,
            subject text NOT NULL,
            text_body text,
            html_body text,
            created_at timestamptz NOT NULL DEFAULT now(),
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            sent_at timestamptz,
            failed_at timestamptz,
            CONSTRAINT pk_email_outbox PRIMARY KEY (id),
            CONSTRAINT fk_email_outbox_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE SET NULL
        )
        """,
        # The sender's look-up: what is still due.
        f"""
        CREATE INDEX ix_email_outbox_due ON {schema}.email_outbox (next_attempt_at)
            WHERE sent_at IS NULL AND failed_at IS NULL
        """,
        f"CREATE INDEX ix_email_outbox_user_id ON {schema}.email_outbox (user_id)",
        f"CREATE INDEX ix_email_outbox_created_at ON {schema}.email_outbox (created_at)",
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known
                CHECK (scope IN ('email', 'client', 'register', 'reset_email', 'reset_client'))
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"DELETE FROM {schema}.login_failures WHERE scope IN ('reset_email', 'reset_client')"
    )
    op.execute(
        f"""
        ALTER TABLE {schema}.login_failures
            DROP CONSTRAINT ck_login_failures_scope_known,
            ADD CONSTRAINT ck_login_failures_scope_known
                CHECK (scope IN ('email', 'client', 'register'))
        """
    )
    op.execute(f"DROP TABLE {schema}.email_outbox")
    op.execute(f"DROP TABLE {schema}.one_time_tokens")
    op.execute(
        f"""
        ALTER TABLE {schema}.users
            DROP COLUMN email_verified, DROP COLUMN disabled, DROP COLUMN not_before
        """
    )
