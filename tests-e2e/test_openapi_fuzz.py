"""Every service answers as its OpenAPI document says: schemathesis through the gateway.

Per service, `schemathesis run` with all checks and every phase (examples, coverage,
fuzzing, stateful), a fixed seed and a fixed example count: the same requests every
run, bounded so `make test` keeps its budget. `make fuzz` sets EDVENT_FUZZ_EXAMPLES
higher. The callers are real accounts made through the public API first: an ADMIN for
identity, an INSTRUCTOR owning a course (with a lesson and a published exam) for the
others, and a STUDENT with an attempt where only the student may act. Path ids are
pinned to those resources so requests reach the logic behind them, not just 404s.

EDVENT_FUZZ_GATEWAY points them at a platform already running (with the bootstrap
admin of tests-e2e/conftest.py) instead of starting one.

These run after every other test (see conftest.py): fuzzing login fills the
per-address login throttle for a quarter of an hour.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import Platform
from .helpers import admin, create_exam, register

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("EDVENT_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("EDVENT_FUZZ_SEED", "20261126"))
# Where each run's counts go (`make fuzz` prints them; the README records them).
REPORT = os.environ.get("EDVENT_FUZZ_REPORT")


@dataclass(frozen=True)
class World:
    admin: str
    instructor: str
    student: str
    student_id: str
    course_id: str
    lesson_id: str
    exam_id: str
    attempt_id: str


@pytest.fixture(scope="module")
def gateway_url(request: pytest.FixtureRequest) -> str:
    running = os.environ.get("EDVENT_FUZZ_GATEWAY")
    if running:
        return running
    platform: Platform = request.getfixturevalue("platform")
    return platform.gateway


@pytest.fixture(scope="module")
async def world(gateway_url: str) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as gateway:
        admin_auth = await admin(gateway)
        teacher = await register(gateway, role="INSTRUCTOR", prefix="fuzz.teacher")
        student = await register(gateway, prefix="fuzz.student")
        course = await gateway.post(
            "/api/v1/courses", json={"title": "Fuzzed", "description": "x"}, headers=teacher.auth
        )
        assert course.status_code == 201, course.text
        course_id = course.json()["id"]
        lesson = await gateway.post(
            f"/api/v1/courses/{course_id}/lessons",
            json={"title": "One", "content_markdown": "# One\n\nPlants make sugar from light."},
            headers=teacher.auth,
        )
        assert lesson.status_code == 201, lesson.text
        lesson_id = lesson.json()["id"]
        for path in (
            f"/api/v1/lessons/{lesson_id}/publish",
            f"/api/v1/courses/{course_id}/publish",
        ):
            published = await gateway.post(path, headers=teacher.auth)
            assert published.status_code == 200, published.text
        exam_id = await create_exam(gateway, teacher.auth, course_id)
        attempt = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
        assert attempt.status_code == 201, attempt.text
        yield World(
            admin=admin_auth["Authorization"],
            instructor=teacher.auth["Authorization"],
            student=student.auth["Authorization"],
            student_id=student.id,
            course_id=course_id,
            lesson_id=lesson_id,
            exam_id=exam_id,
            attempt_id=attempt.json()["id"],
        )


def _config(service: str, world: World) -> str:
    """schemathesis.toml for one service: who calls, and the ids paths are pinned to."""
    as_student = (
        "/api/v1/exams/{exam_id}/attempts",
        "/api/v1/attempts/{attempt_id}/submit",
        "/api/v1/attempts/{attempt_id}/answers",
    )
    caller = world.admin if service == "identity" else world.instructor
    lines = [
        f"seed = {SEED}",
        # No replay of crashes cached by earlier runs: the same requests every run.
        "[cache]",
        "enabled = false",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        "[headers]",
        f"Authorization = {json.dumps(caller)}",
        "[parameters]",
        f'"path.user_id" = "{world.student_id}"',
        f'"path.course_id" = "{world.course_id}"',
        f'"path.lesson_id" = "{world.lesson_id}"',
        f'"path.exam_id" = "{world.exam_id}"',
        f'"path.attempt_id" = "{world.attempt_id}"',
    ]
    if service == "content":
        # A raw text/markdown body has no JSON types on the wire: schemathesis counts the
        # JSON value `{}` as a wrongly typed body, yet sent as text it is valid Markdown.
        # (It knows this only of text/plain.) Blank and non-UTF-8 bodies are still 422.
        lines += [
            "[[operations]]",
            'include-path = "/api/v1/lessons/{lesson_id}/content"',
            'include-method = "PUT"',
            "checks.negative_data_rejection.enabled = false",
        ]
    if service == "identity":
        # A made-up reset or verification token is refused with 400 (CONTRACT.md), however
        # well-formed: only a token from an email works.
        for path in ("/api/v1/auth/password-reset/confirm", "/api/v1/auth/verify-email"):
            lines += ["[[operations]]", f'include-path = "{path}"', 'include-method = "POST"']
            lines.append(
                'checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403,'
                " 404, 409, 429]"
            )
        # What ends every session of its caller runs as the student, not as the ADMIN
        # every other identity operation is called as.
        for method, path in (
            ("POST", "/api/v1/auth/logout-all"),
            ("POST", "/api/v1/auth/password"),
            ("DELETE", "/api/v1/users/me"),
        ):
            lines += [
                "[[operations]]",
                f'include-path = "{path}"',
                f'include-method = "{method}"',
                f"headers = {{ Authorization = {json.dumps(world.student)} }}",
            ]
    if service == "assessment":
        # Rules JSON Schema cannot state (option ids unique within a question, correct
        # ids among the options; an adaptive config's max_items at least its min_items,
        # whose default is 5) and answers that must name the attempt's own questions
        # and options: the server answers 422 to such schema-valid bodies.
        also_422 = (
            'checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 403, 404, 409, 422]'
        )
        for path in ("/api/v1/exams", "/api/v1/exams/{exam_id}/questions"):
            lines += ["[[operations]]", f'include-path = "{path}"', 'include-method = "POST"']
            lines.append(also_422)
        for path in as_student:
            lines += [
                "[[operations]]",
                f'include-path = "{path}"',
                'include-method = "POST"',
                f"headers = {{ Authorization = {json.dumps(world.student)} }}",
            ]
            if path != "/api/v1/exams/{exam_id}/attempts":
                lines.append(also_422)
    return "\n".join(lines) + "\n"


# identity last: fuzzing login fills the per-address login throttle.
SERVICES = {
    "content": "/api/v1/courses",
    "assessment": "/api/v1/exams",
    "ai-notes": "/api/v1/notes",
    "identity": "/api/v1/auth",
}
_SUMMARY = re.compile(r"(\d+) generated, (.*)")


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_service_answers_as_its_openapi_document_says(
    service: str, gateway_url: str, world: World, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(service, world))
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            f"--config-file={config}",
            "--no-color",
            "run",
            f"{gateway_url}{SERVICES[service]}/openapi.json",
            f"--url={gateway_url}",
            # Every check runs by default (schemathesis 4); `--checks=all` would also
            # override the one check turned off for one operation above.
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    summary = _SUMMARY.search(output)
    line = f"{service}: {summary.group(0) if summary else 'no summary'}"
    print(line)
    if REPORT:
        with open(REPORT, "a") as report:
            report.write(line + "\n")
    assert run.returncode == 0, output[-20_000:]
