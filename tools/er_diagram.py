"""docs/er-diagram.md from the migrated schemas: a Mermaid `erDiagram` per service and
one overview.

Read from PostgreSQL's catalogue after every service's migrations ran (not from the
models), so the diagram shows what the database enforces: keys, foreign keys, unique
constraints and indexes, CHECK constraints, JSONB columns. What the catalogue cannot
know (which event feeds a reference table, what a JSONB column holds) is said in
`FED_BY` and `HOLDS` below; a test fails when a JSONB column or a reference table has
no entry there, and when docs/er-diagram.md is not what this renders.

    uv run python tools/er_diagram.py --dsn postgresql://... > docs/er-diagram.md

The tests (tools/tests/test_er_diagram.py) migrate the four services into a scratch
database and compare; `make er-diagram` rewrites the file the same way.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SCHEMAS = ("identity", "content", "assessment", "ai_notes", "learning_records")
# Every service has these; they are drawn once, in a note, not in every diagram.
MECHANICS = ("outbox", "inbox", "dead_letters", "alembic_version")

# Reference tables: a service's copy of another's entities, fed by the owner's events.
FED_BY: dict[str, tuple[str, str]] = {
    # table: (the owner's table, "topic: event types")
    "content.users": (
        "identity.users",
        "identity.users: registered, role_changed, sessions_revoked, deleted",
    ),
    "assessment.users": (
        "identity.users",
        "identity.users: registered, role_changed, sessions_revoked, deleted",
    ),
    "assessment.courses": (
        "content.courses",
        "content.courses: created, published, unpublished, archived, owner_changed",
    ),
    "ai_notes.lessons": (
        "content.lessons",
        "content.lessons: published, unpublished, deleted",
    ),
    "ai_notes.courses": (
        "content.courses",
        "content.courses: created, published, unpublished, archived, owner_changed",
    ),
    "ai_notes.users": (
        "identity.users",
        "identity.users: registered, role_changed, sessions_revoked, deleted",
    ),
    "identity.course_owners": (
        "content.courses",
        "content.courses: created, owner_changed",
    ),
    "learning_records.courses": (
        "content.courses",
        "content.courses: created, owner_changed",
    ),
    "learning_records.erased_users": (
        "identity.users",
        "identity.users: deleted",
    ),
}

# What each JSONB column holds.
HOLDS: dict[str, str] = {
    "identity.signing_keys.public_jwk": "the public key as a JWK",
    "assessment.exams.config": "mode and settings: fixed or adaptive (IRT model, stop rules)",
    "assessment.questions.options": "[{id, text}] in authoring order",
    "assessment.questions.correct_option_ids": "the ids of the right options",
    "assessment.exam_attempts.answer_sheet": "each question as it was, the answers, right or not",
    "assessment.exam_analytics.document": "running sums for analytics and item statistics",
    "ai_notes.ai_notes.key_concepts": "[{name, definition}] from the LLM, validated",
    "learning_records.statements.body": "the xAPI 1.0.3 statement sent to the LRS",
}


@dataclass
class Column:
    name: str
    type: str
    nullable: bool
    keys: list[str] = field(default_factory=list)


@dataclass
class Table:
    schema: str
    name: str
    columns: list[Column]
    foreign_keys: list[tuple[list[str], str]]  # (columns, "schema.table")
    uniques: list[str]  # readable: "(email)" or "lower(email)"
    checks: list[str]  # constraint names

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def _type(raw: str) -> str:
    """A catalogue type as a Mermaid attribute type (a single word)."""
    short = {
        "timestamp with time zone": "timestamptz",
        "timestamp without time zone": "timestamp",
        "character varying": "varchar",
        "double precision": "float8",
    }
    base, _, rest = raw.partition("(")
    word = short.get(base.strip(), base.strip())
    array = raw.endswith("[]")
    word = word.removesuffix("[]")
    if rest and "vector" in word:
        word += "_" + rest.rstrip(")[]")
    word = re.sub(r"[^A-Za-z0-9_]", "_", word.split(".")[-1])
    return word + ("_array" if array else "")


def read_schema(conn: psycopg.Connection, schema: str) -> list[Table]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            (schema,),
        )
        if row[0] not in MECHANICS
    ]
    tables = []
    for name in names:
        oid = conn.execute("SELECT %s::regclass::oid", (f"{schema}.{name}",)).fetchone()
        assert oid is not None
        columns = {
            row[1]: Column(name=row[1], type=_type(row[2]), nullable=not row[3])
            for row in conn.execute(
                "SELECT attnum, attname, format_type(atttypid, atttypmod), attnotnull"
                " FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped"
                " ORDER BY attnum",
                (oid[0],),
            )
        }
        foreign_keys: list[tuple[list[str], str]] = []
        uniques: list[str] = []
        checks: list[str] = []
        constraints = conn.execute(
            "SELECT contype, conname, confrelid::regclass::text,"
            " ARRAY(SELECT attname FROM unnest(conkey) k"
            "       JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k)"
            " FROM pg_constraint WHERE conrelid = %s ORDER BY conname",
            (oid[0],),
        ).fetchall()
        for kind, constraint, target, keys in constraints:
            if kind == "p":
                for key in keys:
                    columns[key].keys.append("PK")
            elif kind == "f":
                foreign_keys.append((keys, target))
                for key in keys:
                    columns[key].keys.append("FK")
            elif kind == "u":
                uniques.append("(" + ", ".join(keys) + ")")
                if len(keys) == 1:
                    columns[keys[0]].keys.append("UK")
            elif kind == "c":
                checks.append(constraint)
        # Unique indexes that are not constraints (on expressions: lower(email)).
        for (definition,) in conn.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s AND i.indisunique AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            " ORDER BY 1",
            (oid[0],),
        ):
            body = definition.split(" USING ", 1)[1]
            uniques.append(re.sub(r"^\w+ ", "", body).replace(f"{schema}.", ""))
        tables.append(
            Table(
                schema=schema,
                name=name,
                columns=[columns[key] for key in columns],
                foreign_keys=foreign_keys,
                uniques=uniques,
                checks=checks,
            )
        )
    return tables


def _entity(table: Table, *, prefix: str = "") -> str:
    return prefix + table.name


def _service_diagram(tables: list[Table]) -> list[str]:
    lines = ["```mermaid", "erDiagram"]
    for table in tables:
        lines.append(f"    {table.name} {{")
        for column in table.columns:
            keys = ", ".join(dict.fromkeys(column.keys))
            note = HOLDS.get(f"{table.qualified}.{column.name}", "")
            if not note and not column.nullable and not column.keys:
                note = "not null"
            text = f"        {column.type} {column.name}"
            if keys:
                text += f" {keys}"
            if note:
                text += f' "{note}"'
            lines.append(text)
        lines.append("    }")
    for table in tables:
        for columns, target in table.foreign_keys:
            parent = target.split(".")[-1]
            lines.append(f'    {parent} ||--o{{ {table.name} : "{", ".join(columns)}"')
    lines.append("```")
    return lines


def _overview(all_tables: list[Table]) -> list[str]:
    lines = ["```mermaid", "erDiagram"]
    for table in all_tables:
        lines.append(f"    {table.schema}__{table.name}")
    for table in all_tables:
        for _, target in table.foreign_keys:
            schema, _, name = target.partition(".")
            lines.append(f"    {schema}__{name} ||--o{{ {table.schema}__{table.name} : FK")
    for reference, (owner, _) in FED_BY.items():
        source = owner.replace(".", "__")
        lines.append(f'    {source} ||..o| {reference.replace(".", "__")} : "events"')
    lines.append("```")
    return lines


def missing_annotations(all_tables: Iterable[Table]) -> list[str]:
    """JSONB columns without a HOLDS entry, and FED_BY entries naming no table."""
    tables = list(all_tables)
    missing = [
        f"{table.qualified}.{column.name}"
        for table in tables
        for column in table.columns
        if column.type == "jsonb" and f"{table.qualified}.{column.name}" not in HOLDS
    ]
    present = {table.qualified for table in tables}
    missing += [f"FED_BY names {name}, not a table" for name in FED_BY if name not in present]
    return missing


def render(all_tables: list[Table]) -> str:
    lines = [
        "# Edvent's data: one diagram per service, and an overview",
        "",
        "Generated by `tools/er_diagram.py` from the schemas as the migrations leave them",
        "(`make er-diagram`); `make lint` fails when this file is stale. Each service also",
        "has `outbox`, `inbox` and `dead_letters` (libs/events) and `alembic_version`,",
        "left out below.",
        "",
        "## Overview",
        "",
        "Solid lines are foreign keys inside a schema. Dotted lines are reference tables:",
        "a service's copy of another service's entities, kept by consuming its events (no",
        "foreign key crosses a schema).",
        "",
        *_overview(all_tables),
        "",
        "| reference table | copy of | fed by |",
        "|---|---|---|",
        *(f"| `{table}` | `{owner}` | {events} |" for table, (owner, events) in FED_BY.items()),
    ]
    for schema in SCHEMAS:
        tables = [table for table in all_tables if table.schema == schema]
        lines += ["", f"## {schema}", "", *_service_diagram(tables), ""]
        constraints = [
            f"- `{table.name}`: unique {', '.join(table.uniques) or '-'}; checks "
            f"{', '.join(f'`{c}`' for c in table.checks) or '-'}"
            for table in tables
        ]
        lines += ["Unique constraints and CHECK constraints:", "", *constraints]
    lines += ["", DIFFERENCES.strip(), ""]
    return "\n".join(lines)


DIFFERENCES = """
## Where this differs from the seed's ERD, and why

- **No foreign key crosses a service.** The seed draws `exam_attempts.user_id ->
  users.id` and `exams.course_id -> courses.id` across what are now four schemas.
  Each service owns its schema and cannot point into another's, so it keeps small
  reference tables (`assessment.users`, `assessment.courses`, `content.users`,
  `ai_notes.lessons`), filled from the owner's events, and its own tables carry real
  foreign keys to those. An attempt still cannot exist without a user and an exam.
- **`users` exists once as the account and three times as a reference.** Only
  `identity.users` holds the email and password hash. The copies hold the role, the
  session cut-off (`not_before`) and the erasure mark (`deleted_at`): erasing a person
  leaves a pseudonymous row that attempts keep pointing at.
- **Status columns, not booleans.** `exam_attempts.status` is
  `in_progress | completed | expired` (an attempt can run out of time), and exams are
  `draft | published`; the seed's `is_completed` flag could not say "expired".
- **Attempts are an immutable log** with the graded `answer_sheet` snapshot (JSONB),
  so a later edit of a question never changes a past grade.
- **Lesson bodies live in S3**: `lessons.content_url` is the object key plus its
  `content_sha256`, not a text column.
- **AI notes are one row per lesson** (`ai_notes.lesson_id` unique), with chunks and
  their pgvector embeddings in `lesson_chunks`, which the seed did not have.
- **Every schema has `outbox`, `inbox` and `dead_letters`**: the transactional
  outbox and the idempotent consumer (DESIGN.md "Events").
"""


def read_all(dsn: str) -> list[Table]:
    with psycopg.connect(dsn) as conn:
        return [table for schema in SCHEMAS for table in read_schema(conn, schema)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a database with every schema migrated")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    tables = read_all(args.dsn)
    missing = missing_annotations(tables)
    if missing:
        print("no annotation in tools/er_diagram.py for: " + ", ".join(missing), file=sys.stderr)
        return 1
    text = render(tables)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
