"""a data key per user: personal fields in events are encrypted with it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

`user.registered` carries the email and name encrypted with the user's own key
(edvent_events.pii); the key is published on `identity.user-keys` and deleted at erasure,
which leaves every copy of the ciphertext unreadable (crypto-shredding). Accounts made
before this revision have no key: their earlier events carried the fields in clear.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"""
        CREATE TABLE {schema}.user_data_keys (
            user_id uuid NOT NULL,
            key bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_user_data_keys PRIMARY KEY (user_id),
            CONSTRAINT ck_user_data_keys_key_aes_256 CHECK (octet_length(key) = 32),
            CONSTRAINT fk_user_data_keys_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE CASCADE
        )
        """
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE {schema}.user_data_keys")
