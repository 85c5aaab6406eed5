"""`make dev` supervises: one crashing or stopped service does not take the platform down.

Driven the way an operator does it: `kill -9` and `edvent-stack status|stop|start`
from another process, traffic through the gateway.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from .helpers import parts, stack

if TYPE_CHECKING:
    from .conftest import Platform

PARTS = [
    "postgres", "kafka", "s3", "mailpit", "lrs", "jaeger",
    "identity", "content", "assessment", "ai-notes", "learning-records", "gateway",
]  # fmt: skip


def eventually(check: Callable[[], bool], *, timeout: float) -> float:
    """Seconds until `check` held."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.1)
    return time.monotonic() - start


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_status_shows_every_part_running_and_healthy(platform: Platform) -> None:
    rows = parts(platform)
    assert list(rows) == PARTS
    for row in rows.values():
        assert row["state"] == "running", row
        assert row["health"] == "ok", row
        assert isinstance(row["pid"], int), row
    assert rows["gateway"]["address"] == platform.gateway
    assert rows["identity"]["address"].endswith(str(platform.service_ports["identity"]))

    table = stack(platform, "status")
    assert table.returncode == 0
    assert "identity" in table.stdout and "RESTARTS" in table.stdout


def test_a_killed_service_answers_again_within_seconds_and_nothing_else_restarts(
    platform: Platform,
) -> None:
    before = parts(platform)
    jwks = f"{platform.gateway}/api/v1/auth/jwks"
    courses = f"{platform.gateway}/api/v1/courses"
    results: list[tuple[float, int]] = []
    done = threading.Event()

    def traffic() -> None:
        with httpx.Client(timeout=5) as client:
            while not done.is_set():
                try:
                    status = client.get(jwks).status_code
                except httpx.HTTPError:
                    status = 0
                results.append((time.monotonic(), status))
                time.sleep(0.02)

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        eventually(lambda: any(s == 200 for _, s in results), timeout=10)
        killed_at = time.monotonic()
        os.kill(before["identity"]["pid"], signal.SIGKILL)
        eventually(lambda: any(t > killed_at and s != 200 for t, s in results), timeout=10)
        recovered = eventually(
            lambda: any(t > killed_at and s == 200 for t, s in results[-3:]), timeout=30
        )
        # The rest of the platform kept serving meanwhile.
        assert answers(courses)
    finally:
        done.set()
        thread.join(timeout=10)
    assert recovered < 20, recovered

    after = parts(platform)
    assert after["identity"]["restarts"] == before["identity"]["restarts"] + 1
    assert after["identity"]["pid"] != before["identity"]["pid"]
    assert after["identity"]["state"] == "running"
    for name in PARTS:
        if name != "identity":
            assert after[name]["pid"] == before[name]["pid"], name
            assert after[name]["restarts"] == before[name]["restarts"], name


def test_one_service_stops_and_starts_alone(platform: Platform) -> None:
    before = parts(platform)
    courses = f"{platform.gateway}/api/v1/courses"
    jwks = f"{platform.gateway}/api/v1/auth/jwks"

    stopped = stack(platform, "stop", "content")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    rows = parts(platform)
    assert rows["content"]["state"] == "stopped"
    assert rows["content"]["pid"] is None
    time.sleep(1)  # well past the first backoff: a stopped part is not brought back
    assert parts(platform)["content"]["state"] == "stopped"
    # The gateway answers for the missing service as CONTRACT.md says: 503, Retry-After.
    unavailable = httpx.get(courses, timeout=5)
    assert unavailable.status_code == 503, unavailable.text
    assert "retry-after" in unavailable.headers
    assert unavailable.headers["content-type"] == "application/problem+json"
    assert answers(jwks)

    started = stack(platform, "start", "content")
    assert started.returncode == 0, started.stdout + started.stderr
    assert answers(courses)
    after = parts(platform)
    assert after["content"]["state"] == "running"
    assert after["content"]["restarts"] == before["content"]["restarts"]
    for name in PARTS:
        if name != "content":
            assert after[name]["pid"] == before[name]["pid"], name


def test_s3_restarts_alone_and_an_unknown_part_is_refused(platform: Platform) -> None:
    before = parts(platform)
    restarted = stack(platform, "restart", "s3")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = parts(platform)
    assert after["s3"]["state"] == "running" and after["s3"]["health"] == "ok"
    assert after["s3"]["pid"] != before["s3"]["pid"]
    assert after["content"]["pid"] == before["content"]["pid"]

    unknown = stack(platform, "restart", "nginx")
    assert unknown.returncode != 0
    assert "invalid choice" in unknown.stderr
