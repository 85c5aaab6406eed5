"""adaptive exams: question discrimination and calibration, attempt ability

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Plain SQL, frozen. Adds columns only: the immutability trigger of 0003 compares no
columns (a closed row refuses every UPDATE), so it stays correct for the new ones.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"""
        ALTER TABLE {schema}.questions
            ADD COLUMN discrimination double precision,
            ADD COLUMN calibrated_difficulty double precision,
            ADD COLUMN calibrated_discrimination double precision,
            ADD COLUMN calibration_sample_size integer,
            ADD CONSTRAINT ck_questions_discrimination_positive
                CHECK (discrimination IS NULL OR discrimination > 0),
            ADD CONSTRAINT ck_questions_calibration_complete CHECK (
                (calibrated_difficulty IS NULL) = (calibration_sample_size IS NULL)
                AND (calibrated_difficulty IS NOT NULL OR calibrated_discrimination IS NULL)
            )
        """,
        # When the exam's questions were last calibrated: part of the item bank's cache
        # key, so serving instances pick up new values without a restart.
        f"ALTER TABLE {schema}.exams ADD COLUMN calibrated_at timestamptz",
        f"""
        ALTER TABLE {schema}.exam_attempts
            ADD COLUMN ability double precision,
            ADD COLUMN standard_error double precision,
            ADD CONSTRAINT ck_exam_attempts_ability_closed
                CHECK (ability IS NULL OR status <> 'in_progress'),
            ADD CONSTRAINT ck_exam_attempts_ability_with_standard_error
                CHECK ((ability IS NULL) = (standard_error IS NULL))
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(
        f"ALTER TABLE {schema}.exam_attempts DROP CONSTRAINT ck_exam_attempts_ability_closed,"
        " DROP CONSTRAINT ck_exam_attempts_ability_with_standard_error,"
        " DROP COLUMN ability, DROP COLUMN standard_error"
    )
    op.execute(f"ALTER TABLE {schema}.exams DROP COLUMN calibrated_at")
    op.execute(
        f"ALTER TABLE {schema}.questions DROP CONSTRAINT ck_questions_discrimination_positive,"
        " DROP CONSTRAINT ck_questions_calibration_complete,"
        " DROP COLUMN discrimination, DROP COLUMN calibrated_difficulty,"
        " DROP COLUMN calibrated_discrimination, DROP COLUMN calibration_sample_size"
    )
