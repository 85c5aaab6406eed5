"""user data exports: a request per user, its private key, and the sealed parts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

`GET /users/me/export` publishes `user.export_requested` with the public half of
`private_key`; each service answers with its part, sealed to it, on its own
`<service>.user-exports` topic, and the parts land in `user_export_parts`. Rows go when
the download expires (with the key: every copy on Kafka is then unreadable) or with the
account.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"""
        CREATE TABLE {schema}.user_exports (
            id uuid NOT NULL,
            user_id uuid NOT NULL,
            private_key bytea NOT NULL,
            services text[] NOT NULL,
            requested_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            CONSTRAINT pk_user_exports PRIMARY KEY (id),
            CONSTRAINT ck_user_exports_private_key_x25519 CHECK (octet_length(private_key) = 32),
            CONSTRAINT fk_user_exports_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE CASCADE
        )
        """
    )
    op.execute(
        f"CREATE INDEX ix_user_exports_user_id_requested_at"
        f" ON {schema}.user_exports (user_id, requested_at)"
    )
    op.execute(f"CREATE INDEX ix_user_exports_requested_at ON {schema}.user_exports (requested_at)")
    op.execute(
        f"""
        CREATE TABLE {schema}.user_export_parts (
            export_id uuid NOT NULL,
            service text NOT NULL,
            chunk integer NOT NULL,
            chunks integer NOT NULL,
            sealed text NOT NULL,
            exported_at timestamptz NOT NULL,
            CONSTRAINT pk_user_export_parts PRIMARY KEY (export_id, service, chunk),
            CONSTRAINT ck_user_export_parts_chunk_in_range CHECK (chunk >= 0 AND chunk < chunks),
            CONSTRAINT fk_user_export_parts_export_id_user_exports FOREIGN KEY (export_id)
                REFERENCES {schema}.user_exports (id) ON DELETE CASCADE
        )
        """
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE {schema}.user_export_parts")
    op.execute(f"DROP TABLE {schema}.user_exports")
