"""courses lifecycle, attempt seeds, grades index, and the INSERT guard of the trigger

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Plain SQL, frozen.
- `courses.archived_at` (content's `course.archived`; `course.unpublished` clears
  `published_at`), and an index on `courses.owner_id`, which the exam list filters on.
- `exam_attempts.shuffle_seed`: the seed an attempt's question and option order was
  drawn with (null for attempts started before shuffling existed, and never read for
  them: their sheet is in exam order).
- `ix_exam_attempts_exam_id_user_id`: a student's attempts at an exam, counted under
  the (user, exam) lock at every start and grouped by the grades list.
- The immutability trigger also runs on INSERT: no attempt is born closed or with a
  result, so the log's only way to a score is the one UPDATE from `in_progress`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _function(schema: str, *, guard_insert: bool) -> str:
    insert_guard = (
        """
            IF TG_OP = 'INSERT' THEN
                IF NEW.status <> 'in_progress' OR NEW.score IS NOT NULL
                        OR NEW.passed IS NOT NULL OR NEW.completed_at IS NOT NULL THEN
                    RAISE EXCEPTION 'exam attempt % cannot be born closed or with a result',
                        NEW.id
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END IF;"""
        if guard_insert
        else ""
    )
    return f"""
        CREATE OR REPLACE FUNCTION {schema}.exam_attempts_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN{insert_guard}
            IF OLD.status IN ('completed', 'expired') THEN
                RAISE EXCEPTION 'exam attempt % is %, and a closed attempt never changes',
                    OLD.id, OLD.status
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END
        $$
        """


def upgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"ALTER TABLE {schema}.courses ADD COLUMN archived_at timestamptz")
    op.execute(f"CREATE INDEX ix_courses_owner_id ON {schema}.courses (owner_id)")
    op.execute(f"ALTER TABLE {schema}.exam_attempts ADD COLUMN shuffle_seed bigint")
    op.execute(
        f"CREATE INDEX ix_exam_attempts_exam_id_user_id"
        f" ON {schema}.exam_attempts (exam_id, user_id)"
    )
    op.execute(_function(schema, guard_insert=True))
    op.execute(f"DROP TRIGGER exam_attempts_immutable ON {schema}.exam_attempts")
    op.execute(
        f"CREATE TRIGGER exam_attempts_immutable"
        f" BEFORE INSERT OR UPDATE OR DELETE ON {schema}.exam_attempts"
        f" FOR EACH ROW EXECUTE FUNCTION {schema}.exam_attempts_immutable()"
    )


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TRIGGER exam_attempts_immutable ON {schema}.exam_attempts")
    op.execute(
        f"CREATE TRIGGER exam_attempts_immutable"
        f" BEFORE UPDATE OR DELETE ON {schema}.exam_attempts"
        f" FOR EACH ROW EXECUTE FUNCTION {schema}.exam_attempts_immutable()"
    )
    op.execute(_function(schema, guard_insert=False))
    op.execute(f"DROP INDEX {schema}.ix_exam_attempts_exam_id_user_id")
    op.execute(f"ALTER TABLE {schema}.exam_attempts DROP COLUMN shuffle_seed")
    op.execute(f"DROP INDEX {schema}.ix_courses_owner_id")
    op.execute(f"ALTER TABLE {schema}.courses DROP COLUMN archived_at")
