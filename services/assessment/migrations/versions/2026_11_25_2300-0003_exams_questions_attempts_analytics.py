"""users and courses reference tables, exams, questions, attempts, analytics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Plain SQL, frozen: later changes come as new migrations. Completed and expired
attempts are made immutable by a trigger, whatever the code does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(schema: str) -> list[str]:
    return [
        f"""
        CREATE TABLE {schema}.users (
            id uuid NOT NULL,
            role text NOT NULL,
            email text,
            full_name text,
            role_changed_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_users PRIMARY KEY (id)
        )
        """,
        f"""
        CREATE TABLE {schema}.courses (
            id uuid NOT NULL,
            owner_id uuid NOT NULL,
            title text NOT NULL,
            published_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_courses PRIMARY KEY (id)
        )
        """,
        f"""
        CREATE TABLE {schema}.exams (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            course_id uuid NOT NULL,
            title text NOT NULL,
            duration_seconds integer NOT NULL,
            passing_score_percent integer NOT NULL,
            config jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            status text NOT NULL DEFAULT 'draft',
            published_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_exams PRIMARY KEY (id),
            CONSTRAINT fk_exams_course_id_courses FOREIGN KEY (course_id)
                REFERENCES {schema}.courses (id) ON DELETE RESTRICT,
            CONSTRAINT ck_exams_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
            CONSTRAINT ck_exams_duration_positive CHECK (duration_seconds > 0),
            CONSTRAINT ck_exams_passing_score_percent_range
                CHECK (passing_score_percent BETWEEN 0 AND 100),
            CONSTRAINT ck_exams_config_object CHECK (jsonb_typeof(config) = 'object'),
            CONSTRAINT ck_exams_status_known CHECK (status IN ('draft', 'published')),
            CONSTRAINT ck_exams_published_has_time
                CHECK ((status = 'published') = (published_at IS NOT NULL))
        )
        """,
        f"CREATE INDEX ix_exams_course_id_created_at ON {schema}.exams (course_id, created_at, id)",
        f"CREATE INDEX ix_exams_created_at_id ON {schema}.exams (created_at, id)",
        f"""
        CREATE TABLE {schema}.questions (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            exam_id uuid NOT NULL,
            position integer NOT NULL,
            prompt text NOT NULL,
            kind text NOT NULL,
            options jsonb NOT NULL,
            correct_option_ids jsonb NOT NULL,
            points integer NOT NULL DEFAULT 1,
            difficulty double precision NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_questions PRIMARY KEY (id),
            CONSTRAINT fk_questions_exam_id_exams FOREIGN KEY (exam_id)
                REFERENCES {schema}.exams (id) ON DELETE CASCADE,
            CONSTRAINT uq_questions_exam_id_position UNIQUE (exam_id, position),
            CONSTRAINT ck_questions_prompt_length CHECK (char_length(prompt) BETWEEN 1 AND 10000),
            CONSTRAINT ck_questions_kind_known
                CHECK (kind IN ('single_choice', 'multiple_choice')),
            CONSTRAINT ck_questions_options_array CHECK (jsonb_typeof(options) = 'array'),
            CONSTRAINT ck_questions_correct_option_ids_array
                CHECK (jsonb_typeof(correct_option_ids) = 'array'
                       AND jsonb_array_length(correct_option_ids) >= 1),
            CONSTRAINT ck_questions_points_positive CHECK (points > 0),
            CONSTRAINT ck_questions_position_not_negative CHECK (position >= 0)
        )
        """,
        f"""
        CREATE TABLE {schema}.exam_attempts (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            exam_id uuid NOT NULL,
            user_id uuid NOT NULL,
            status text NOT NULL DEFAULT 'in_progress',
            score integer,
            passed boolean,
            started_at timestamptz NOT NULL DEFAULT now(),
            deadline timestamptz NOT NULL,
            completed_at timestamptz,
            answer_sheet jsonb NOT NULL,
            CONSTRAINT pk_exam_attempts PRIMARY KEY (id),
            CONSTRAINT fk_exam_attempts_exam_id_exams FOREIGN KEY (exam_id)
                REFERENCES {schema}.exams (id) ON DELETE RESTRICT,
            CONSTRAINT fk_exam_attempts_user_id_users FOREIGN KEY (user_id)
                REFERENCES {schema}.users (id) ON DELETE RESTRICT,
            CONSTRAINT ck_exam_attempts_status_known
                CHECK (status IN ('in_progress', 'completed', 'expired')),
            CONSTRAINT ck_exam_attempts_score_range CHECK (score BETWEEN 0 AND 100),
            CONSTRAINT ck_exam_attempts_closed_has_result CHECK (
                (status = 'in_progress') = (completed_at IS NULL)
                AND (status = 'in_progress') = (score IS NULL)
                AND (status = 'in_progress') = (passed IS NULL)
            ),
            CONSTRAINT ck_exam_attempts_deadline_after_start CHECK (deadline > started_at),
            CONSTRAINT ck_exam_attempts_answer_sheet_array
                CHECK (jsonb_typeof(answer_sheet) = 'array')
        )
        """,
        # One open attempt per student and exam: starts race on this, not on a check.
        f"""
        CREATE UNIQUE INDEX uq_exam_attempts_open ON {schema}.exam_attempts (exam_id, user_id)
            WHERE status = 'in_progress'
        """,
        # The sweeper's look-up of overdue attempts.
        f"""
        CREATE INDEX ix_exam_attempts_open_deadline ON {schema}.exam_attempts (deadline)
            WHERE status = 'in_progress'
        """,
        f"""
        CREATE INDEX ix_exam_attempts_exam_id_started_at
            ON {schema}.exam_attempts (exam_id, started_at, id)
        """,
        f"CREATE INDEX ix_exam_attempts_user_id ON {schema}.exam_attempts (user_id)",
        f"""
        CREATE FUNCTION {schema}.exam_attempts_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
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
        """,
        f"""
        CREATE TRIGGER exam_attempts_immutable BEFORE UPDATE OR DELETE ON {schema}.exam_attempts
        FOR EACH ROW EXECUTE FUNCTION {schema}.exam_attempts_immutable()
        """,
        f"""
        CREATE TABLE {schema}.exam_analytics (
            exam_id uuid NOT NULL,
            document jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_exam_analytics PRIMARY KEY (exam_id),
            CONSTRAINT fk_exam_analytics_exam_id_exams FOREIGN KEY (exam_id)
                REFERENCES {schema}.exams (id) ON DELETE CASCADE
        )
        """,
    ]


def upgrade() -> None:
    for statement in _statements(op.get_context().version_table_schema):
        op.execute(statement)


def downgrade() -> None:
    schema = op.get_context().version_table_schema
    op.execute(f"DROP TABLE IF EXISTS {schema}.exam_analytics")
    op.execute(f"DROP TABLE IF EXISTS {schema}.exam_attempts")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.exam_attempts_immutable()")
    op.execute(f"DROP TABLE IF EXISTS {schema}.questions")
    op.execute(f"DROP TABLE IF EXISTS {schema}.exams")
    op.execute(f"DROP TABLE IF EXISTS {schema}.courses")
    op.execute(f"DROP TABLE IF EXISTS {schema}.users")
