"""note_jobs, rate_windows, token_usage: the LLM budget

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Plain SQL, frozen.
- note_jobs: notes to make outside the consumer, one per lesson at most (so a second
  regenerate while one waits adds nothing): regenerate requests, and notes put off
  until the provider's daily token budget returns. Workers claim them with
  FOR UPDATE SKIP LOCKED.
- rate_windows: fixed-window counters shared by every replica (regenerate per caller).
- token_usage: tokens and requests spent per provider and UTC day.
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
        CREATE TABLE {schema}.note_jobs (
            lesson_id uuid NOT NULL,
            reason text NOT NULL,
            requested_by uuid,
            requested_at timestamptz NOT NULL DEFAULT now(),
            run_after timestamptz NOT NULL DEFAULT now(),
            attempts integer NOT NULL DEFAULT 0,
            CONSTRAINT pk_note_jobs PRIMARY KEY (lesson_id),
            CONSTRAINT fk_note_jobs_lesson_id_lessons FOREIGN KEY (lesson_id)
                REFERENCES {schema}.lessons (id) ON DELETE CASCADE,
            CONSTRAINT ck_note_jobs_reason CHECK (reason IN ('regenerate', 'budget')),
            CONSTRAINT ck_note_jobs_attempts CHECK (attempts >= 0)
        )
        """,
        f"CREATE INDEX ix_note_jobs_run_after ON {schema}.note_jobs (run_after)",
        f"""
        CREATE TABLE {schema}.rate_windows (
            key text NOT NULL,
            window_start timestamptz NOT NULL,
            hits integer NOT NULL,
            CONSTRAINT pk_rate_windows PRIMARY KEY (key)
        )
        """,
        f"""
        CREATE TABLE {schema}.token_usage (
            provider text NOT NULL,
            day date NOT NULL,
            tokens bigint NOT NULL DEFAULT 0,
            requests bigint NOT NULL DEFAULT 0,
            CONSTRAINT pk_token_usage PRIMARY KEY (provider, day),
            CONSTRAINT ck_token_usage_tokens CHECK (tokens >= 0)
        )
        """,
    ]


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in _statements(schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE {schema}.token_usage")
    op.execute(f"DROP TABLE {schema}.rate_windows")
    op.execute(f"DROP TABLE {schema}.note_jobs")
