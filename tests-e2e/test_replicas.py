"""Two replicas of everything (`EDVENT_REPLICAS=2`): the journeys under load while one
replica of each service, the one leading its outbox relay, is SIGKILLed.

Its own platform (the session's runs one process per service), with the single-runner
jobs every second or two and their runs logged (`<SERVICE>_LOG_JOB_RUNS`), so the drill
can lay every replica's runs side by side. The p99 through the gateway before, during
and after such a kill is measured by `make bench` (bench/replicas.py), not here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from edvent_events.acls import DATA_TEAM
from edvent_events.connection import KafkaConnection, client_kwargs
from edvent_events.topics import AI_NOTES_NOTES, ASSESSMENT_ATTEMPTS, IDENTITY_USERS
from edvent_localstack.cli import DATA_TEAM_PASSWORD
from edvent_localstack.launch import platform_up
from edvent_localstack.pytest_plugin import read_topic
from edvent_localstack.services import SERVICES

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Platform
from .helpers import PASSWORD, Account, create_exam, login, note_ready, open_to_students, parts
from .helpers import register as register_account
from .test_drills import by_key, course_with_lessons, publish_until_done

# Its own platform of eight service processes takes minutes to start on a 2-core
# machine: `make soak` runs it, `make test` leaves it out (the parts have fast tests:
# deploy/local's gateway failover, libs/platform's single-runner jobs and multi-worker
# metrics, libs/events' relay standby and prune).
pytestmark = [pytest.mark.e2e, pytest.mark.soak]

LESSONS = 6
STUDENTS = 8
NEWCOMERS = 6
# The single-runner jobs, often enough to meet each other many times in a short drill.
JOB_ENV = {
    "ASSESSMENT_SWEEP_INTERVAL_SECONDS": "0.5",
    "ASSESSMENT_CALIBRATION_INTERVAL_SECONDS": "2",
    "IDENTITY_MAINTENANCE_INTERVAL_SECONDS": "1",
    **{f"{s.env_prefix}OUTBOX_PRUNE_INTERVAL_SECONDS": "1" for s in SERVICES.values()},
    **{f"{s.env_prefix}LOG_JOB_RUNS": "true" for s in SERVICES.values()},
}
SINGLE_RUNNER_JOBS = {
    ("identity", "maintenance"),
    ("assessment", "sweeper"),
    ("assessment", "calibration"),
    *((service, "outbox-prune") for service in SERVICES),
}


@dataclass(frozen=True)
class Replicated:
    platform: Platform
    # service -> {part name: port}: `content` and `content-2`
    replicas: dict[str, dict[str, int]]


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    data_dir = Path(tempfile.mkdtemp(prefix="edvent-e2e-replicas-"))
    env = {
        "EDVENT_REPLICAS": "2",
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GATEWAY_LOGIN_RATE": "600r/m",
        "GATEWAY_LOGIN_BURST": "200",
        "GATEWAY_REGISTER_RATE": "600r/m",
        "GATEWAY_REGISTER_BURST": "200",
        "IDENTITY_REGISTER_MAX_PER_CLIENT": "1000",
        **JOB_ENV,
    }
    with platform_up(data_dir, env, timeout=400) as (pid, ports):
        platform = Platform(
            gateway=f"http://127.0.0.1:{ports['GATEWAY_PORT']}",
            service_ports={s: ports[f"{SERVICES[s].env_prefix}PORT"] for s in SERVICES},
            kafka=KafkaConnection(
                f"127.0.0.1:{ports['KAFKA_PORT']}",
                security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="SCRAM-SHA-512",
                username=DATA_TEAM,
                password=os.environ.get("EDVENT_DATA_TEAM_PASSWORD") or DATA_TEAM_PASSWORD,
            ),
            data_dir=data_dir,
            pid=pid,
        )
        replicas = {
            s.name: {
                s.name: ports[f"{s.env_prefix}PORT"],
                f"{s.name}-2": ports[f"{s.env_prefix}PORT_2"],
            }
            for s in SERVICES.values()
        }
        yield Replicated(platform, replicas)


async def metric(client: httpx.AsyncClient, port: int, name: str) -> float | None:
    """The sum of a metric's samples on one process, None when it does not answer."""
    try:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return None
    pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(text))


async def relay_leaders(replicated: Replicated) -> dict[str, list[str]]:
    """Per service, the replicas whose relay holds the publish lock now."""
    async with httpx.AsyncClient(timeout=5) as client:
        return {
            service: [
                name
                for name, port in ports.items()
                if await metric(client, port, "outbox_relay_leader") == 1
            ]
            for service, ports in replicated.replicas.items()
        }


async def one_leader_each(replicated: Replicated, timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        leaders = await relay_leaders(replicated)
        if all(len(names) == 1 for names in leaders.values()):
            return {service: names[0] for service, names in leaders.items()}
        assert time.monotonic() < deadline, leaders
        await asyncio.sleep(0.5)


async def retried(send: Any, *, accept: set[int], after_failure: set[int]) -> httpx.Response:
    """Send as a client does through a failing replica: again after no answer or a 5xx.
    A retry may meet what an unanswered try did (`after_failure`: 409, say)."""
    failed = False
    for _ in range(150):
        try:
            answer: httpx.Response = await send()
            if answer.status_code in accept or (failed and answer.status_code in after_failure):
                return answer
            assert answer.status_code >= 500, answer.text
        except httpx.HTTPError:
            pass
        failed = True
        await asyncio.sleep(0.2)
    raise AssertionError("never answered")


def job_runs(data_dir: Path) -> dict[tuple[str, str], list[tuple[float, float, str]]]:
    """(service, job) -> (start, end, part) of every logged run, from every replica's log."""
    runs: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
    for log in (data_dir / "logs").glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if '"job_started"' not in line:
                continue
            entry = json.loads(line)
            runs[(entry["service"], entry["job"])].append(
                (entry["job_started"], entry["job_ended"], f"{log.stem}:{entry['pid']}")
            )
    return runs


def overlaps(runs: list[tuple[float, float, str]]) -> list[tuple[Any, Any]]:
    """Pairs of runs of one job that were under way at the same time."""
    found = []
    ordered = sorted(runs)
    for before, after in itertools.pairwise(ordered):
        if after[0] < before[1]:
            found.append((before, after))
    return found


async def group_members(platform: Platform, service: str) -> dict[str, int]:
    """The service's consumer group: each member's partition count."""
    admin = AIOKafkaAdminClient(**client_kwargs(platform.kafka_as(service)))
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([service])
    finally:
        await admin.close()
    # A raw DescribeGroupsResponse: (error, id, state, protocol type, protocol, members).
    (group,) = response.groups
    members: dict[str, int] = {}
    for member in group[5]:
        assignment = ConsumerProtocolMemberAssignment.decode(member[-1])
        members[member[0]] = sum(len(partitions) for _, partitions in assignment.assignment)
    return members


async def test_one_replica_of_each_service_killed_mid_load_loses_and_repeats_nothing(
    replicated,
):
    platform = replicated.platform
    started_at = time.time()
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as gateway:
        instructor, course_id, lesson_ids = await course_with_lessons(gateway, LESSONS)
        exam_id = await create_exam(gateway, instructor.auth, course_id)
        students = [
            await register_account(gateway, prefix="replica-student") for _ in range(STUDENTS)
        ]
        await open_to_students(gateway, instructor.auth, course_id, exam_id, students[0].auth)
        attempts = []
        for student in students:
            attempt = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
            assert attempt.status_code == 201, attempt.text
            attempts.append(attempt.json())

        leaders = await one_leader_each(replicated)
        before = parts(platform)
        # Both replicas of ai-notes take a share of its topics' partitions (once the
        # group has settled after the start).
        shares = await group_members(platform, "ai-notes")
        for _ in range(60):
            if len(shares) == 2 and all(shares.values()):
                break
            await asyncio.sleep(1)
            shares = await group_members(platform, "ai-notes")
        first_answer = asyncio.Event()

        async def publish(lesson_id: str) -> int:
            tries = await publish_until_done(gateway, instructor.auth, lesson_id)
            first_answer.set()
            return tries

        async def submit(student: Account, attempt: dict[str, Any]) -> httpx.Response:
            question_id = attempt["questions"][0]["question_id"]
            return await retried(
                lambda: gateway.post(
                    f"/api/v1/attempts/{attempt['id']}/submit",
                    json={"answers": [{"question_id": question_id, "option_ids": ["b"]}]},
                    headers=student.auth,
                ),
                accept={200},
                after_failure={409},
            )

        async def newcomer(number: int) -> str:
            email = f"replica-new-{number}.{os.urandom(4).hex()}@example.com"
            await retried(
                lambda: gateway.post(
                    "/api/v1/auth/register",
                    json={"email": email, "password": PASSWORD, "full_name": "New"},
                ),
                accept={201},
                after_failure={409},
            )
            return email

        async def kill_leaders() -> float:
            await first_answer.wait()
            for name in leaders.values():
                os.kill(before[name]["pid"], signal.SIGKILL)
            return time.monotonic()

        killing = asyncio.create_task(kill_leaders())
        load = await asyncio.gather(
            asyncio.gather(*(publish(lesson_id) for lesson_id in lesson_ids)),
            asyncio.gather(*(submit(s, a) for s, a in zip(students, attempts, strict=True))),
            asyncio.gather(*(newcomer(n) for n in range(NEWCOMERS))),
        )
        killed_at = await killing
        publish_tries, submitted, newcomers = load

        # Every process killed was brought back by the supervisor; a new leader each.
        deadline = time.monotonic() + 120
        while True:
            now = parts(platform)
            restarted = {n: now[n]["restarts"] - before[n]["restarts"] for n in leaders.values()}
            if all(count >= 1 for count in restarted.values()) and all(
                now[n]["state"] == "running" and now[n]["health"] == "ok" for n in now
            ):
                break
            assert time.monotonic() < deadline, (restarted, now)
            await asyncio.sleep(0.5)
        new_leaders = await one_leader_each(replicated)
        recovered = time.monotonic() - killed_at

        # Nothing lost.
        for lesson_id in lesson_ids:
            await note_ready(gateway, instructor.auth, lesson_id, timeout=240)
        newcomer_ids = []
        for email in newcomers:
            me = await gateway.get("/api/v1/users/me", headers=await login(gateway, email))
            newcomer_ids.append(me.json()["id"])
        analytics = await gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=instructor.auth)
        for _ in range(300):
            if analytics.status_code == 200 and analytics.json()["attempts_completed"] >= STUDENTS:
                break
            await asyncio.sleep(0.2)
            analytics = await gateway.get(
                f"/api/v1/exams/{exam_id}/analytics", headers=instructor.auth
            )
        assert analytics.json()["attempts_completed"] == STUDENTS, analytics.text

    # Nothing applied twice: one event per change, by ce_id, whatever was repeated.
    lesson_keys = {lesson_id.encode() for lesson_id in lesson_ids}
    notes = await read_topic(
        platform.kafka, AI_NOTES_NOTES, expected=LESSONS, where=lambda r: r.key in lesson_keys
    )
    _, note_ids = by_key(notes)
    attempt_keys = {attempt["id"].encode() for attempt in attempts}
    completed = await read_topic(
        platform.kafka,
        ASSESSMENT_ATTEMPTS,
        expected=STUDENTS,
        where=lambda r: r.key in attempt_keys,
    )
    _, completed_ids = by_key(completed)
    assert {k: len(v) for k, v in note_ids.items()} == dict.fromkeys(lesson_ids, 1)
    assert {k: len(v) for k, v in completed_ids.items()} == {a["id"]: 1 for a in attempts}
    user_keys = {user_id.encode() for user_id in newcomer_ids}
    registered = await read_topic(
        platform.kafka, IDENTITY_USERS, expected=NEWCOMERS, where=lambda r: r.key in user_keys
    )
    _, registered_ids = by_key(registered)
    assert {k: len(v) for k, v in registered_ids.items()} == dict.fromkeys(newcomer_ids, 1)

    # No single-runner job ran on two replicas at once; each ran, on both replicas.
    await asyncio.sleep(1.5)  # the replicas' log buffers are flushed every second
    runs = job_runs(platform.data_dir)
    during = {job: [r for r in rows if r[0] >= started_at] for job, rows in runs.items()}
    counts = {f"{s}/{j}": len(during.get((s, j), [])) for s, j in sorted(SINGLE_RUNNER_JOBS)}
    on_parts = {
        f"{s}/{j}": len({part.split(":")[0] for *_, part in during.get((s, j), [])})
        for s, j in sorted(SINGLE_RUNNER_JOBS)
    }
    print(
        f"replicas drill: killed {sorted(leaders.values())} (the relay leaders) after the first"
        f" publish; all parts healthy and one relay leader each ({new_leaders}) {recovered:.0f} s"
        f" later; publishes retried {sum(t > 1 for t in publish_tries)}, submits answered"
        f" {len(submitted)}, newcomers {len(newcomers)}; notes.generated records {len(notes)}"
        f" distinct {sum(map(len, note_ids.values()))}; attempt records {len(completed)} distinct"
        f" {sum(map(len, completed_ids.values()))}; ai-notes group partitions per member"
        f" {sorted(shares.values())}; single-runner job runs {counts}, on how many processes"
        f" {on_parts}"
    )
    for job, rows in during.items():
        assert not overlaps(rows), (job, overlaps(rows))
    assert all(counts.values()), counts
    assert any(count > 1 for count in on_parts.values()), on_parts
    assert len(shares) == 2 and all(shares.values()), shares


async def test_throttles_and_caches_hold_across_replicas(replicated):
    """Failed logins sent to each identity replica in turn count together (the throttle
    lives in identity's database), and a course published through one content replica
    is in the anonymous catalogue the other one answers from memory at once."""
    identity = list(replicated.replicas["identity"].values())
    content = list(replicated.replicas["content"].values())
    async with httpx.AsyncClient(base_url=replicated.platform.gateway, timeout=30) as gateway:
        instructor = await register_account(gateway, role="INSTRUCTOR", prefix="replica-cache")
    async with httpx.AsyncClient(timeout=30) as direct:
        wrong = {"email": instructor.email, "password": "not the password!"}
        failures = [
            await direct.post(f"http://127.0.0.1:{identity[n % 2]}/api/v1/auth/login", json=wrong)
            for n in range(5)
        ]
        throttled = await direct.post(
            f"http://127.0.0.1:{identity[1]}/api/v1/auth/login",
            json={"email": instructor.email, "password": PASSWORD},
        )
        assert [f.status_code for f in failures] == [401] * 5
        assert throttled.status_code == 429, throttled.text

        catalogue = [f"http://127.0.0.1:{port}/api/v1/courses?limit=100" for port in content]
        for url in catalogue:  # both replicas hold the catalogue in memory now
            assert (await direct.get(url)).status_code == 200
        course = await direct.post(
            f"{catalogue[0].split('/api')[0]}/api/v1/courses",
            json={"title": "Replicated"},
            headers=instructor.auth,
        )
        assert course.status_code == 201, course.text
        published = await direct.post(
            f"{catalogue[0].split('/api')[0]}/api/v1/courses/{course.json()['id']}/publish",
            headers=instructor.auth,
        )
        assert published.status_code == 200, published.text
        listed = (await direct.get(catalogue[1])).json()["items"]
    assert course.json()["id"] in {item["id"] for item in listed}
