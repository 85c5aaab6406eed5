"""catalogue version: a counter every write to courses bumps, in the same transaction

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The anonymous catalogue is answered from a per-process cache that checks this
counter on every request (edvent_content.api.catalogue_cache). A statement trigger
bumps it, so no writer (the API, a consumer, an operator's SQL) can change courses
without the caches seeing it. Its row lock makes concurrent course writes take turns
until commit; course writes are rare and short.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    op.execute(f"INSERT INTO {schema}.catalogue_version (id, version) VALUES (1, 0)")
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


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"DROP TRIGGER IF EXISTS courses_bump_catalogue_version_truncate ON {schema}.courses"
    )
    op.execute(f"DROP TRIGGER IF EXISTS courses_bump_catalogue_version ON {schema}.courses")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.bump_catalogue_version()")
    op.execute(f"DROP TABLE IF EXISTS {schema}.catalogue_version")
