"""view version: the catalogue version becomes the view version of courses and lessons

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

A student's view of a lesson is now answered from memory as the catalogue was
(`edvent_platform.view_cache`), so writes to `lessons` must bump the version too.
The table, its function and triggers take the shape and names every service shares
(`edvent_platform.view_cache.create_version_table`); the count goes on from where the
catalogue's stood, so no process takes an old answer for a new one.
"""

from collections.abc import Sequence

from alembic import op

from edvent_platform import view_cache

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("courses", "lessons")


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    for statement in view_cache.create_version_table(schema, watched=WATCHED):
        op.execute(statement)
    op.execute(
        f"UPDATE {schema}.view_version SET version = c.version + 1"
        f" FROM {schema}.catalogue_version c"
    )
    op.execute(
        f"DROP TRIGGER IF EXISTS courses_bump_catalogue_version_truncate ON {schema}.courses"
    )
    op.execute(f"DROP TRIGGER IF EXISTS courses_bump_catalogue_version ON {schema}.courses")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.bump_catalogue_version()")
    op.execute(f"DROP TABLE IF EXISTS {schema}.catalogue_version")


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"""
        CREATE TABLE {schema}.catalogue_version (
            id smallint NOT NULL DEFAULT 1,
            version bigint NOT NULL DEFAULT 0,
            CONSTRAINT pk_catalogue_version PRIMARY KEY (id),
            CONSTRAINT ck_catalogue_version_one_row CHECK (id = 1)
        )
        """
    )
    op.execute(
        f"INSERT INTO {schema}.catalogue_version (id, version)"
        f" SELECT 1, version + 1 FROM {schema}.view_version"
    )
    op.execute(
        f"""
        CREATE FUNCTION {schema}.bump_catalogue_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {schema}.catalogue_version SET version = version + 1 WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    for event in ("INSERT OR UPDATE OR DELETE", "TRUNCATE"):
        name = "courses_bump_catalogue_version" + ("_truncate" if event == "TRUNCATE" else "")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {schema}.courses "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bump_catalogue_version()"
        )
    for statement in view_cache.drop_version_table(schema, watched=WATCHED):
        op.execute(statement)
