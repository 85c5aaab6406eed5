"""term_stats: how many public chunks hold each word, for the search's full-text side

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

Plain SQL, frozen.
- term_stats: per word (an 'english' stem, as in lesson_chunks.search_vector), the
  chunks of public lessons (lesson published, course published and not archived)
  holding it, in each course (`scope` = the course's id) and in the whole catalogue
  (`scope` = the nil UUID); term_stats_totals: how many public chunks each scope has.
  The search reads them instead of counting matches per question (usecases/search.py).
- term_stats_changes: one row per statement that wrote lessons, courses or chunks (a
  trigger adds it, so no writer can forget); the refresh job (jobs.py) recounts when
  there are any, and removes the ones it has seen. Inserts only: writers never wait on
  one another for it.
The job's first run fills the tables (no catalogue total yet).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("lessons", "courses", "lesson_chunks")


def _statements(schema: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {schema}.term_stats (
            scope uuid NOT NULL,
            word text NOT NULL,
            chunks integer NOT NULL,
            CONSTRAINT pk_term_stats PRIMARY KEY (scope, word),
            CONSTRAINT ck_term_stats_chunks CHECK (chunks > 0)
        )
        """,
        f"""
        CREATE TABLE {schema}.term_stats_totals (
            scope uuid NOT NULL,
            chunks integer NOT NULL,
            refreshed_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_term_stats_totals PRIMARY KEY (scope),
            CONSTRAINT ck_term_stats_totals_chunks CHECK (chunks >= 0)
        )
        """,
        f"""
        CREATE TABLE {schema}.term_stats_changes (
            id bigint GENERATED ALWAYS AS IDENTITY,
            changed_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_term_stats_changes PRIMARY KEY (id)
        )
        """,
        f"""
        CREATE FUNCTION {schema}.term_stats_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {schema}.term_stats_changes DEFAULT VALUES;
            RETURN NULL;
        END
        $$
        """,
        *(
            f"""
            CREATE TRIGGER term_stats_changed AFTER INSERT OR UPDATE OR DELETE
            ON {schema}.{table}
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.term_stats_changed()
            """
            for table in WATCHED
        ),
    ]


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in _statements(schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    for table in WATCHED:
        op.execute(f"DROP TRIGGER term_stats_changed ON {schema}.{table}")
    op.execute(f"DROP FUNCTION {schema}.term_stats_changed()")
    op.execute(f"DROP TABLE {schema}.term_stats_changes")
    op.execute(f"DROP TABLE {schema}.term_stats_totals")
    op.execute(f"DROP TABLE {schema}.term_stats")
