"""Signed-in reads through the gateway, beside the anonymous cached list, one run:
`uv run python -m bench.signed_in`.

The whole platform starts as `make dev` starts it (`edvent-stack up`, temporary data
dir, free ports). An instructor publishes 25 courses, a lesson (its AI note generated
by the `local` provider) and an exam; a student signs in. Then, with the student's
token and through the gateway: `GET /api/v1/courses?limit=20`, `GET
/api/v1/lessons/{id}`, `GET /api/v1/notes/{id}` and `GET /api/v1/exams?course_id=`,
each beside the anonymous `GET /api/v1/courses?limit=20` (content's cache):

- saturation: wrk, 32 connections, 10 s, rounds alternating the anonymous list and
  each signed-in read, so each read is compared with the list of its own moment;
- a fixed 300 req/s: vegeta (open loop, 15 s), p50/p99 and whether the rate was held.

Beside each signed-in round, the CPU every process of the platform used; with
BENCH_SIGNED_IN_PROFILE=DIR, py-spy records the answering service into DIR.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import CpuMeter, pid_on_port, profile_dir, profiler
from bench.gateway_load import RATE, paced, paced_figures, vegeta, wrk, wrk_figures
from edvent_localstack.launch import platform_up

ADMIN_EMAIL = "bench-admin@example.com"
PASSWORD = "bench admin password"  # noqa: S105 (a throwaway local stack)
LIST = "/api/v1/courses?limit=20"
# The service answering each read (for py-spy), as its port's variable names it.
ANSWERED_BY = {
    "GET /courses?limit=20": "CONTENT",
    "GET /lessons/{id}": "CONTENT",
    "GET /notes/{id}": "AI_NOTES",
    "GET /exams?course_id=": "ASSESSMENT",
}
# RATE (300 req/s) and `paced` are the gateway benchmark's.
CONNECTIONS = 32
SECONDS = 10
TARGET_SHARE = 0.5
TARGET_P99 = 100.0
ENV = {
    "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
    "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    "IDENTITY_ACCESS_TOKEN_TTL_SECONDS": "3600",
    # As a deployment runs with no OTEL_* set (the charts' default): `make dev` exports
    # every span to its trace viewer, whose cost bench.tracing_overhead measures apart.
    # BENCH_TRACING=on measures with it.
    "EDVENT_TRACING": os.environ.get("BENCH_TRACING", "off"),
}
LESSON = "# Photosynthesis\n\n" + (
    "Plants turn light, water and carbon dioxide into glucose and oxygen. "
    "Chlorophyll in the chloroplasts absorbs the light. " * 40
)


def _login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    answer = http.post("/api/v1/auth/login", json={"email": email, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _user(http: httpx.Client, role: str | None) -> dict[str, str]:
    email = f"bench.{secrets.token_hex(4)}@example.com"
    user = http.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "B"}
    )
    user.raise_for_status()
    if role is not None:
        http.patch(
            f"/api/v1/users/{user.json()['id']}", json={"role": role},
            headers=_login(http, ADMIN_EMAIL, PASSWORD),
        ).raise_for_status()  # fmt: skip
    return _login(http, email, PASSWORD)


def _until(check: Any, what: str, *, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:.0f} s"
        time.sleep(0.3)


def seed(identity: str, gateway: str) -> tuple[dict[str, str], dict[str, str]]:
    """The student's Authorization header, and the signed-in reads by name."""
    with httpx.Client(base_url=identity, timeout=60) as http:
        owner = _user(http, "INSTRUCTOR")
        student = _user(http, None)
    with httpx.Client(base_url=gateway, timeout=60) as http:
        course_ids = []
        for i in range(25):
            made = http.post("/api/v1/courses", json={"title": f"Course {i}"}, headers=owner)
            made.raise_for_status()
            course_ids.append(made.json()["id"])
            http.post(f"/api/v1/courses/{course_ids[-1]}/publish", headers=owner).raise_for_status()
        course_id = course_ids[-1]
        lesson = http.post(
            f"/api/v1/courses/{course_id}/lessons",
            json={"title": "Photosynthesis", "content_markdown": LESSON}, headers=owner,
        )  # fmt: skip
        lesson.raise_for_status()
        lesson_id = lesson.json()["id"]
        http.post(f"/api/v1/lessons/{lesson_id}/publish", headers=owner).raise_for_status()
        body = {"course_id": course_id, "title": "Quiz", "duration_seconds": 600,
                "passing_score_percent": 50}  # fmt: skip

        def exam_made() -> bool:  # 409 until assessment heard of the course
            made = http.post("/api/v1/exams", json=body, headers=owner)
            assert made.status_code in (201, 409), made.text
            if made.status_code == 201:
                body["id"] = made.json()["id"]
            return made.status_code == 201

        _until(exam_made, "assessment hearing of the course")
        exam_id = body["id"]
        http.post(
            f"/api/v1/exams/{exam_id}/questions",
            json={"prompt": "Which gas do plants give off?", "kind": "single_choice",
                  "options": [{"id": "a", "text": "Oxygen"}, {"id": "b", "text": "Argon"}],
                  "correct_option_ids": ["a"]},
            headers=owner,
        ).raise_for_status()  # fmt: skip
        http.post(f"/api/v1/exams/{exam_id}/publish", headers=owner).raise_for_status()
        reads = {
            "GET /courses?limit=20": LIST,
            "GET /lessons/{id}": f"/api/v1/lessons/{lesson_id}",
            "GET /notes/{id}": f"/api/v1/notes/{lesson_id}",
            "GET /exams?course_id=": f"/api/v1/exams?course_id={course_id}",
        }
        _until(
            lambda: (
                http.get(reads["GET /notes/{id}"], headers=student).json().get("status") == "ready"
            ),
            "the lesson's note",
        )
        _until(
            lambda: (
                len(http.get(reads["GET /exams?course_id="], headers=student).json()["items"]) == 1
            ),
            "the exam listed for the student",
        )
        for path in reads.values():
            http.get(path, headers=student).raise_for_status()
    return student, reads


def run() -> str:
    if shutil.which("wrk") is None:
        return "## Signed-in reads\n\nSkipped: `wrk` is missing (`apt-get install wrk`).\n"
    tool = vegeta()
    if tool is None:
        return "## Signed-in reads\n\nSkipped: vegeta is missing (`make bench` builds it).\n"
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-signed-in-"))
    profiles = profile_dir("BENCH_SIGNED_IN_PROFILE")
    loads = []
    with platform_up(work, ENV, timeout=600) as (platform_pid, ports):
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        student, reads = seed(f"http://127.0.0.1:{ports['IDENTITY_PORT']}", gateway)
        auth = tuple(f"{k}: {v}" for k, v in student.items())
        wrk(gateway + LIST, seconds=2, connections=CONNECTIONS)  # warm-up
        for path in reads.values():
            wrk(gateway + path, seconds=2, connections=CONNECTIONS, headers=auth)
        saturation: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
        cpu: dict[str, CpuMeter] = {}
        for name, path in reads.items():
            anonymous = wrk_figures(wrk(gateway + LIST, seconds=SECONDS, connections=CONNECTIONS))
            meter = CpuMeter(platform_pid)
            meter.start()
            service = ANSWERED_BY[name]
            spy = profiler(
                pid_on_port(ports[f"{service}_PORT"]),
                profiles and profiles / f"{len(cpu)}-{service.lower()}.svg",
                SECONDS - 1,
            )
            signed = wrk_figures(
                wrk(gateway + path, seconds=SECONDS, connections=CONNECTIONS, headers=auth)
            )
            meter.stop()
            if spy:
                spy.wait()
            cpu[name] = meter
            saturation[name] = (anonymous, signed)
            loads.append(os.getloadavg()[0])
        fixed = {
            name: paced_figures(paced(tool, gateway + path, headers=student, seconds=15, work=work))
            for name, path in reads.items()
        }
        loads.append(os.getloadavg()[0])
    return report(saturation, fixed, loads, cpu)


def report(
    saturation: dict[str, tuple[dict[str, float], dict[str, float]]],
    fixed: dict[str, dict[str, float]],
    loads: list[float],
    cpu: dict[str, CpuMeter],
) -> str:
    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    rows = []
    for name, (anonymous, signed) in saturation.items():
        share = signed["rps"] / anonymous["rps"]
        paced_ = fixed[name]
        held = paced_["sent"] >= 0.97 * RATE and paced_["success"] == 1.0
        rows.append(
            f"| {name} | {signed['rps']:,.0f} req/s (p50 {signed['p50']:.1f} ms, "
            f"{signed['bad'] + signed['errors']:,.0f} not 2xx) | "
            f"{anonymous['rps']:,.0f} req/s | {share:.0%} {verdict(share >= TARGET_SHARE)} | "
            f"{paced_['p50']:.1f} / {paced_['p99']:.1f} ms, {paced_['success']:.1%} 2xx | "
            f"{verdict(paced_['p99'] <= TARGET_P99 and held)} |"
        )
    return "\n".join(
        [
            "## Signed-in reads (through the gateway, wrk and vegeta)",
            "",
            f"{platform.machine()}, {os.cpu_count()} cores shared by the whole platform, the "
            "load tools and whatever else runs here (1-minute load average during the run: "
            f"{min(loads):.1f} to {max(loads):.1f}); `edvent-stack up` as `make dev` runs "
            f"it, tracing {ENV['EDVENT_TRACING']}. "
            "A student's token on each read; beside each, in the round just before it, the "
            f"anonymous `GET {LIST}` (content's cache). wrk: {CONNECTIONS} connections, "
            f"{SECONDS} s each; vegeta: {RATE} req/s for 15 s, open loop.",
            "",
            f"| read (student's token) | wrk | anonymous list, same moment | share (target ≥ "
            f"{TARGET_SHARE:.0%}) | p50 / p99 at {RATE} req/s | p99 ≤ {TARGET_P99:.0f} ms, "
            "rate held |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Where the cores went during each signed-in wrk round (every process's own CPU "
            "counters):",
            "",
            *(
                line
                for name, meter in cpu.items()
                for line in (
                    f"{name}, {saturation[name][1]['rps'] * meter.wall:,.0f} requests:",
                    "",
                    *meter.table(
                        per=round(saturation[name][1]["rps"] * meter.wall), unit="request"
                    ),
                    "",
                )
            ),
        ]
    )


if __name__ == "__main__":
    sys.stdout.write(run())
