"""An exam rush through the gateway, beside the database's own limit in the same run:
`uv run python -m bench.exam_rush`.

The whole platform starts as `make dev` starts it (`edvent-stack up`, temporary data
dir, free ports). BENCH_RUSH_STUDENTS (default 200) students, signed in beforehand,
start one published 20-question exam, then submit, read two ways on two exams in one
run: all at once (every request sent in the same instant, the harshest reading of
"within a second", which gives the platform's capacity), and spread evenly over one
second (student i sends at i/N s, the issue's own words). Reported per reading: start
and submit p50/p99/max (each request from its own sending), errors, answered/s
(students over the time from the first sent to the last answered), and the time from
the last submit's answer until the exam's analytics and the `attempt.completed` events
on `assessment.attempts` (read as the data team) account for every attempt.

The limit: pgbench, from the PostgreSQL the stack ships, against the stack's own
server, with the same statements a start and a submit make (the role lookup, the
(student, exam) lock, the row lock, the 4 KB snapshot written as JSONB, the outbox
insert, commit; fsync on) at the same concurrency, on copies of assessment's tables
(indexes, checks, the immutability trigger and the outbox's NOTIFY to the relay
included) with the snapshot of a real attempt of the rush. Started and submitted
attempts are separate pgbench runs, as the rush's two waves are.

BENCH_RUSH_PROFILE=DIR: py-spy records assessment during each wave into DIR
(flame graphs, SVG; BENCH_PROFILE_FORMAT=raw for collapsed stacks), for profiling
before changing anything. Beside it, the report shows the CPU every process of the
machine used during each wave.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer

from bench import CpuMeter, percentile, pid_on_port, profile_dir, profiler
from bench.wire import Connection
from edvent_events.acls import DATA_TEAM
from edvent_events.connection import KafkaConnection
from edvent_localstack.cli import DATA_TEAM_PASSWORD
from edvent_localstack.launch import platform_up
from edvent_localstack.postgres import POSTGRES_BIN_PATH

ADMIN_EMAIL = "bench-admin@example.com"
PASSWORD = "bench admin password"  # noqa: S105 (a throwaway local stack)
QUESTIONS = 20
TARGET_SHARE = 0.5  # submits/s over the limit's transactions/s
TARGET_P99 = 1.0  # seconds, submit p99
LIMIT_SECONDS = 10
ENV = {
    "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
    "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    # Registering and signing in the class is set-up, not what this measures.
    "IDENTITY_ARGON2_TIME_COST": "2",
    "IDENTITY_ARGON2_MEMORY_KIB": "19456",
    "IDENTITY_REGISTER_MAX_PER_CLIENT": "100000",
    "IDENTITY_LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
    "IDENTITY_ACCESS_TOKEN_TTL_SECONDS": "3600",
    # As a deployment runs with no OTEL_* set (the charts' default): `make dev` exports
    # every span to its trace viewer, whose cost bench.tracing_overhead measures apart.
    # BENCH_TRACING=on measures with it.
    "EDVENT_TRACING": os.environ.get("BENCH_TRACING", "off"),
    # Processes of each service behind the gateway (`EDVENT_REPLICAS`).
    "EDVENT_REPLICAS": os.environ.get("BENCH_RUSH_REPLICAS", "1"),
    # Worker processes of assessment, the service that carries the peak, on its one port
    # (`serve --workers`): one event loop was the limit, one core busy while the other
    # idled (bench/HISTORY.md, 2026-12-08). BENCH_RUSH_WORKERS=1 measures one.
    "ASSESSMENT_WORKERS": os.environ.get("BENCH_RUSH_WORKERS", "2"),
}


# --- set-up: a class, a course, an exam ------------------------------------------------


async def sign_up(identity: httpx.AsyncClient, *, count: int) -> list[tuple[str, str]]:
    """`count` new students, straight at identity (the gateway limits sign-ups per
    address); their (access token, id)."""
    limit = asyncio.Semaphore(4)

    async def one() -> tuple[str, str]:
        async with limit:
            email = f"rush-{uuid.uuid4().hex[:12]}@example.com"
            body = {"email": email, "password": PASSWORD, "full_name": "Student"}
            (await identity.post("/api/v1/auth/register", json=body)).raise_for_status()
            login = await identity.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            login.raise_for_status()
            token = str(login.json()["access_token"])
            me = await identity.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
            )
            return token, str(me.json()["id"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def instructor(identity: httpx.AsyncClient) -> dict[str, str]:
    """A new INSTRUCTOR's Authorization header."""

    async def login(email: str, password: str) -> dict[str, str]:
        answer = await identity.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    email = f"rush-owner-{secrets.token_hex(4)}@example.com"
    user = await identity.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "O"}
    )
    user.raise_for_status()
    promoted = await identity.patch(
        f"/api/v1/users/{user.json()['id']}",
        json={"role": "INSTRUCTOR"},
        headers=await login(ADMIN_EMAIL, PASSWORD),
    )
    promoted.raise_for_status()
    return await login(email, PASSWORD)


async def published_exam(gateway: httpx.AsyncClient, owner: dict[str, str]) -> str:
    """A published course (through content) and its published exam of QUESTIONS
    questions; returns the exam's id once a student may start it."""
    course = await gateway.post("/api/v1/courses", json={"title": "Rush course"}, headers=owner)
    course.raise_for_status()
    course_id = course.json()["id"]
    (await gateway.post(f"/api/v1/courses/{course_id}/publish", headers=owner)).raise_for_status()
    body = {"course_id": course_id, "title": "Rush exam", "duration_seconds": 3600,
            "passing_score_percent": 60}  # fmt: skip
    deadline = time.monotonic() + 60
    while True:  # 409 until assessment consumed the course.created
        made = await gateway.post("/api/v1/exams", json=body, headers=owner)
        if made.status_code == 201 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    made.raise_for_status()
    exam_id = str(made.json()["id"])
    for i in range(QUESTIONS):
        multiple = i % 4 == 3
        question = {
            "prompt": f"Question {i}: which of these options is the right one? " * 3,
            "kind": "multiple_choice" if multiple else "single_choice",
            "options": [{"id": oid, "text": f"Option {oid}, a plausible answer"} for oid in "abcd"],
            "correct_option_ids": ["a", "c"] if multiple else ["b"],
            "points": 2 if multiple else 1,
        }
        added = await gateway.post(f"/api/v1/exams/{exam_id}/questions", json=question,
                                   headers=owner)  # fmt: skip
        added.raise_for_status()
    (await gateway.post(f"/api/v1/exams/{exam_id}/publish", headers=owner)).raise_for_status()
    return exam_id


# --- the rush ---------------------------------------------------------------------------


def _answers(attempt: dict[str, Any], *, seed: int) -> list[dict[str, Any]]:
    answers = []
    for i, q in enumerate(attempt["questions"]):
        options = [o["id"] for o in q["options"]]
        count = 2 if q["kind"] == "multiple_choice" else 1
        picked = [options[(seed + i + k) % len(options)] for k in range(count)]
        answers.append({"question_id": q["question_id"], "option_ids": picked})
    return answers


async def wave(
    connections: Sequence[Connection],
    requests: Sequence[tuple[str, Any, dict[str, str]]],
    *,
    expect: int,
    spread: float = 0.0,
) -> tuple[list[float], list[dict[str, Any] | None], int, float]:
    """Every request sent at once (or request i at i/N of `spread` s), each on its
    student's own connection; (sorted latencies in s, each from its own sending, bodies
    by request (None when it failed), errors, seconds from the first sent to the last
    answered)."""
    latencies: list[float] = []
    bodies: list[dict[str, Any] | None] = [None] * len(requests)
    errors = 0
    go = asyncio.Event()

    async def one(index: int, path: str, body: dict[str, Any] | None,
                  headers: dict[str, str]) -> None:  # fmt: skip
        nonlocal errors
        await go.wait()
        if spread:
            await asyncio.sleep(index * spread / len(requests))
        began = time.perf_counter()
        try:
            answer = await connections[index].request("POST", path, json_body=body, headers=headers)
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            return
        latencies.append(time.perf_counter() - began)
        if answer.status != expect:
            errors += 1
            return
        bodies[index] = answer.json()

    tasks = [asyncio.create_task(one(i, *r)) for i, r in enumerate(requests)]
    await asyncio.sleep(0.2)  # every task waiting at the start line
    began = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    return sorted(latencies), bodies, errors, time.perf_counter() - began


async def completed_events(kafka: KafkaConnection, exam_id: str, seen: set[str]) -> None:
    """Collect the attempt ids of `attempt.completed` events about the exam into `seen`
    (runs until cancelled), read as the data team reads them."""
    consumer = AIOKafkaConsumer(
        "assessment.attempts", **kafka.client_kwargs(), group_id=None,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    data = json.loads(record.value)
                    if data.get("exam_id") == exam_id:
                        seen.add(data["attempt_id"])
    finally:
        await consumer.stop()


async def rush(
    gateway: str, exam_id: str, students: list[tuple[str, str]], owner: dict[str, str],
    kafka: KafkaConnection, *, platform_pid: int, assessment_pid: int | None,
    profiles: Path | None, spread: float = 0.0,
) -> dict[str, Any]:  # fmt: skip
    count = len(students)
    seen: set[str] = set()
    reader = asyncio.create_task(completed_events(kafka, exam_id, seen))
    connections = [Connection(gateway) for _ in range(count)]
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        # Connections opened beforehand: the rush measures the service, not TCP set-up.
        await asyncio.gather(*(c.request("GET", "/api/v1/courses?limit=1") for c in connections))
        spy = profiler(assessment_pid, profiles and profiles / "start.svg", 8)
        start_cpu = CpuMeter(platform_pid)
        start_cpu.start()
        starts, bodies, start_errors, start_span = await wave(
            connections,
            [(f"/api/v1/exams/{exam_id}/attempts", None, {"Authorization": f"Bearer {t}"})
             for t, _ in students],
            expect=201, spread=spread,
        )  # fmt: skip
        start_cpu.stop()
        if spy:
            spy.wait()
        submitting = [connections[i] for i, body in enumerate(bodies) if body is not None]
        submits_to_send = [
            (f"/api/v1/attempts/{body['id']}/submit", {"answers": _answers(body, seed=i)},
             {"Authorization": f"Bearer {students[i][0]}"})
            for i, body in enumerate(bodies) if body is not None
        ]  # fmt: skip
        spy = profiler(assessment_pid, profiles and profiles / "submit.svg", 8)
        submit_cpu = CpuMeter(platform_pid)
        submit_cpu.start()
        submits, _, submit_errors, submit_span = await wave(
            submitting, submits_to_send, expect=200, spread=spread
        )
        answered = time.perf_counter()
        submit_cpu.stop()
        if spy:
            spy.wait()
        expected = len(submits_to_send) - submit_errors
        analytics_after = events_after = None
        deadline = answered + 120
        while time.perf_counter() < deadline and (analytics_after is None or events_after is None):
            if events_after is None and len(seen) >= expected:
                events_after = time.perf_counter() - answered
            if analytics_after is None:
                stats = await http.get(f"/api/v1/exams/{exam_id}/analytics", headers=owner)
                if stats.status_code == 200 and stats.json()["attempts_completed"] >= expected:
                    analytics_after = time.perf_counter() - answered
            await asyncio.sleep(0.05)
    reader.cancel()
    await asyncio.gather(reader, *(c.close() for c in connections), return_exceptions=True)
    return {
        "starts": starts, "start_errors": start_errors, "start_span": start_span,
        "submits": submits, "submit_errors": submit_errors, "submit_span": submit_span,
        "submitted": expected, "analytics_after": analytics_after,
        "events_after": events_after, "events_seen": len(seen),
        "start_cpu": start_cpu, "submit_cpu": submit_cpu,
    }  # fmt: skip


# --- the limit: pgbench -----------------------------------------------------------------

LIMIT_SCHEMA = "rush_limit"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def limit_scripts(work: Path, *, exam_id: str, sheet: str, graded: str) -> tuple[Path, Path]:
    """pgbench scripts: a start and a submit, statement for statement as the service
    makes them (BEGIN, the role lookup, ..., COMMIT), on copies of
    its tables. Each client is one student (`:client_id`); a start takes a new exam id so
    the student's open attempts do not collide, and a submit closes one of them."""
    s = LIMIT_SCHEMA
    user = "md5('rush' || :client_id)::uuid"
    start = f"""\\set n random(1, 1000000000)
BEGIN;
SELECT role, role_changed_at, not_before, deleted_at FROM {s}.users WHERE id = {user};
SELECT * FROM assessment.exams JOIN assessment.courses ON courses.id = exams.course_id WHERE exams.id = '{exam_id}';
SELECT pg_advisory_xact_lock(hashtextextended('attempt:' || :n || {user}, 0)), now();
SELECT * FROM {s}.exam_attempts WHERE exam_id = md5(:n::text)::uuid AND user_id = {user} AND status = 'in_progress' FOR UPDATE;
SELECT * FROM assessment.questions WHERE exam_id = '{exam_id}' ORDER BY position;
INSERT INTO {s}.exam_attempts (id, exam_id, user_id, deadline, answer_sheet) VALUES (gen_random_uuid(), md5(:n::text)::uuid, {user}, now() + interval '1 hour', {_sql_literal(sheet)}) ON CONFLICT (exam_id, user_id) WHERE status = 'in_progress' DO NOTHING RETURNING *;
COMMIT;
"""  # noqa: E501
    submit = f"""BEGIN;
SELECT role, role_changed_at, not_before, deleted_at FROM {s}.users WHERE id = {user};
SELECT a.*, e.*, now() > a.deadline + interval '30 seconds' AS late, now() FROM {s}.exam_attempts a JOIN assessment.exams e ON e.id = '{exam_id}' WHERE a.id = (SELECT id FROM {s}.exam_attempts WHERE user_id = {user} AND status = 'in_progress' LIMIT 1) FOR UPDATE OF a;
UPDATE {s}.exam_attempts SET status = 'completed', score = 55, passed = false, completed_at = now(), answer_sheet = {_sql_literal(graded)} WHERE id = (SELECT id FROM {s}.exam_attempts WHERE user_id = {user} AND status = 'in_progress' LIMIT 1) AND status = 'in_progress' RETURNING completed_at;
INSERT INTO {s}.outbox (event_id, topic, key, ce_type, source, occurred_at, data) VALUES (gen_random_uuid(), 'assessment.attempts', 'k', 'edvent.assessment.attempt.completed.v1', '/services/assessment', now(), '{{"score": 55}}');
COMMIT;
"""  # noqa: E501
    (work / "start.sql").write_text(start)
    (work / "submit.sql").write_text(submit)
    return work / "start.sql", work / "submit.sql"


def prepare_limit(admin_dsn: str, exam_id: str) -> tuple[str, str]:
    """The copies of assessment's tables for pgbench; a real attempt's snapshot before
    and after grading (the JSONB the start and the submit write)."""
    s = LIMIT_SCHEMA
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for table in ("users", "exam_attempts", "outbox"):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {s}.{table} (LIKE assessment.{table} INCLUDING ALL)"
            )
        conn.execute(
            f"CREATE TRIGGER exam_attempts_immutable BEFORE INSERT OR UPDATE OR DELETE"
            f" ON {s}.exam_attempts FOR EACH ROW"
            " EXECUTE FUNCTION assessment.exam_attempts_immutable()"
        )
        # The relay's wake-up, as on assessment's outbox: `LIKE` copies no triggers.
        conn.execute(
            f"CREATE TRIGGER outbox_notify AFTER INSERT ON {s}.outbox"
            " FOR EACH STATEMENT EXECUTE FUNCTION assessment.outbox_notify()"
        )
        row = conn.execute(
            "SELECT answer_sheet::text FROM assessment.exam_attempts"
            " WHERE exam_id = %s AND status = 'completed' LIMIT 1",
            (exam_id,),
        ).fetchone()
        assert row is not None
        graded = row[0]
        ungraded = json.dumps([
            {k: v for k, v in item.items() if k not in ("answer", "correct")}
            for item in json.loads(graded)
        ])  # fmt: skip
    return ungraded, graded


def pgbench(dsn: str, script: Path, *, clients: int, transactions: int) -> dict[str, float]:
    """`clients` clients running `script` `transactions` times each; tps and latency."""
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pgbench"), "-n", "-f", str(script), "-c", str(clients),
         "-j", "2", "-t", str(transactions), "-r", dsn],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert tps and latency, out.stdout + out.stderr
    return {
        "tps": float(tps.group(1)),
        "latency_ms": float(latency.group(1)),
        "failed": float(failed.group(1)) if failed else 0.0,
    }


def limit(admin_dsn: str, work: Path, exam_id: str, *, clients: int) -> dict[str, dict[str, float]]:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {LIMIT_SCHEMA}")
    sheet, graded = prepare_limit(admin_dsn, exam_id)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        # Each client is a student the role lookup finds, as every rushing student is.
        conn.execute(
            f"INSERT INTO {LIMIT_SCHEMA}.users (id, role)"
            " SELECT md5('rush' || c)::uuid, 'STUDENT' FROM generate_series(0, %s) AS c"
            " ON CONFLICT (id) DO NOTHING",
            (clients,),
        )
    start, submit = limit_scripts(work, exam_id=exam_id, sheet=sheet, graded=graded)
    # A warm-up round of each, then the measured one: as many starts per client as
    # submits, so every submit finds an open attempt of its student.
    pgbench(admin_dsn, start, clients=clients, transactions=2)
    pgbench(admin_dsn, submit, clients=clients, transactions=2)
    rounds = max(5, 2000 // clients)
    return {
        "start": pgbench(admin_dsn, start, clients=clients, transactions=rounds),
        "submit": pgbench(admin_dsn, submit, clients=clients, transactions=rounds),
    }


# --- the report -------------------------------------------------------------------------


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:,.0f} ms" if values else "n/a"


def report(result: dict[str, Any], spread: dict[str, Any], bound: dict[str, dict[str, float]],
           *, students: int, load: tuple[float, float]) -> str:  # fmt: skip
    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    def rate(r: dict[str, Any], wave: str) -> float:
        done = r["submitted"] if wave == "submit" else students - r["start_errors"]
        return float(done / r[f"{wave}_span"])

    def p99(r: dict[str, Any]) -> float:
        return percentile(r["submits"], 99) if r["submits"] else float("inf")

    def after(value: float | None) -> str:
        return f"{value:.1f} s" if value is not None else "not within 120 s"

    def rows(r: dict[str, Any], reading: str) -> list[str]:
        return [
            f"| {reading} | {wave} | {rate(r, wave):,.0f} | {_ms(r[f'{wave}s'], 50)} | "
            f"{_ms(r[f'{wave}s'], 99)} | {_ms(r[f'{wave}s'], 100)} | {r[f'{wave}_errors']} |"
            for wave in ("start", "submit")
        ]

    def settled(r: dict[str, Any], reading: str) -> str:
        return (
            f"{reading}: the exam's analytics counted all {r['submitted']} attempts "
            f"{after(r['analytics_after'])} after the last submit's answer, and "
            f"`attempt.completed` events for all of them were on `assessment.attempts` after "
            f"{after(r['events_after'])} ({r['events_seen']} seen)."
        )

    submit_rate = rate(result, "submit")
    share = submit_rate / bound["submit"]["tps"]
    return "\n".join(
        [
            "## Exam rush (through the gateway, beside pgbench)",
            "",
            f"{platform.machine()}, {os.cpu_count()} cores shared by the whole platform, the "
            "load and whatever else runs here (1-minute load average before and after: "
            f"{load[0]:.1f}, {load[1]:.1f}); `edvent-stack up` as `make dev` runs it, tracing "
            f"{ENV['EDVENT_TRACING']}, {ENV['EDVENT_REPLICAS']} replica(s) of each service, "
            f"assessment with {ENV['ASSESSMENT_WORKERS']} worker process(es). "
            f"{students} students, signed in beforehand, start one published exam of "
            f"{QUESTIONS} questions through the gateway, then submit it: on one exam all in "
            "the same instant (the platform's capacity), on another spread evenly over one "
            "second (student i at i/N s). Latencies count from each request's own sending.",
            "",
            "| reading | wave | answered/s | p50 | p99 | max | errors |",
            "|---|---|---|---|---|---|---|",
            *rows(result, "same instant"),
            *rows(spread, "over one second"),
            "",
            settled(result, "Same instant"),
            settled(spread, "Over one second"),
            "",
            "Where the cores went during each wave of the same-instant reading (every "
            "process's own CPU counters, from the first request sent to the last answer):",
            "",
            "Start:",
            "",
            *result["start_cpu"].table(per=students, unit="start"),
            "",
            "Submit:",
            "",
            *result["submit_cpu"].table(per=result["submitted"], unit="submit"),
            "",
            f"The limit, in the same run: pgbench ({students} clients, the same statements "
            "on copies of the tables, fsync on):",
            "",
            "| script | transactions/s | mean latency | failed |",
            "|---|---|---|---|",
            *(
                f"| {name} | {b['tps']:,.0f} | {b['latency_ms']:,.1f} ms | {b['failed']:.0f} |"
                for name, b in bound.items()
            ),
            "",
            "| target | figure | result |",
            "|---|---|---|",
            f"| submits/s ≥ {TARGET_SHARE:.0%} of pgbench's submit transactions/s (same "
            f"instant) | {submit_rate:,.0f} / {bound['submit']['tps']:,.0f} = {share:.0%} | "
            f"{verdict(share >= TARGET_SHARE)} |",
            *(
                f"| submit p99 ≤ {TARGET_P99:.0f} s at {students} students ({reading}) | "
                f"{p99(r):.2f} s | {verdict(p99(r) <= TARGET_P99 and r['submit_errors'] == 0)} |"
                for reading, r in (("same instant", result), ("over one second", spread))
            ),
            "",
        ]
    )


async def _run(work: Path, students_count: int, profiles: Path | None) -> str:
    with platform_up(work, ENV, timeout=600) as (platform_pid, ports):
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        identity_url = f"http://127.0.0.1:{ports['IDENTITY_PORT']}"
        async with httpx.AsyncClient(base_url=identity_url, timeout=120) as identity:
            owner = await instructor(identity)
            students = await sign_up(identity, count=students_count)
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
            exam_ids = [await published_exam(http, owner) for _ in range(2)]
            deadline = time.monotonic() + 60
            # Students see an exam once assessment consumed course.published.
            for exam_id in exam_ids:
                while (await http.get(f"/api/v1/exams/{exam_id}",
                                      headers={"Authorization": f"Bearer {students[0][0]}"})
                       ).status_code != 200:  # fmt: skip
                    assert time.monotonic() < deadline, "the exam never became visible"
                    await asyncio.sleep(0.2)
        kafka = KafkaConnection(
            f"127.0.0.1:{ports['KAFKA_PORT']}", security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512", username=DATA_TEAM,
            password=os.environ.get("EDVENT_DATA_TEAM_PASSWORD") or DATA_TEAM_PASSWORD,
        )  # fmt: skip
        load_before = os.getloadavg()[0]
        assessment_pid = pid_on_port(ports["ASSESSMENT_PORT"])
        result = await rush(
            gateway, exam_ids[0], students, owner, kafka,
            platform_pid=platform_pid, assessment_pid=assessment_pid, profiles=profiles,
        )  # fmt: skip
        spread = await rush(
            gateway, exam_ids[1], students, owner, kafka,
            platform_pid=platform_pid, assessment_pid=assessment_pid, profiles=None,
            spread=1.0,
        )  # fmt: skip
        secrets_ = json.loads((work / "secrets.json").read_text())
        admin_dsn = (
            f"postgresql://postgres:{secrets_['postgres']}@127.0.0.1:{ports['POSTGRES_PORT']}"
            "/edvent"
        )
        bound = limit(admin_dsn, work, exam_ids[0], clients=students_count)
        load_after = os.getloadavg()[0]
    return report(result, spread, bound, students=students_count, load=(load_before, load_after))


def run() -> str:
    students = int(os.environ.get("BENCH_RUSH_STUDENTS", "200"))
    profiles = profile_dir("BENCH_RUSH_PROFILE")
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-rush-"))
    return asyncio.run(_run(work, students, profiles))


if __name__ == "__main__":
    sys.stdout.write(run())
