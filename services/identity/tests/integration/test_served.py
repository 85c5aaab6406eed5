"""`edvent-identity serve` as deployed: a real uvicorn process on a real port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edvent_localstack.process import free_port

PASSWORD = "correct horse battery staple"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str


@pytest.fixture
def served_process(identity_url: str, kafka, tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")} | {
        "IDENTITY_DATABASE_URL": identity_url,
        **kafka.service_env("identity", "IDENTITY_"),
        "IDENTITY_ENVIRONMENT": "test",
        "IDENTITY_ARGON2_TIME_COST": "2",
        "IDENTITY_ARGON2_MEMORY_KIB": "19456",
    }
    log = (tmp_path / "identity.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "edvent-identity"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "identity.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "identity did not become ready"
            time.sleep(0.1)
        yield Served(process, url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def served(served_process: Served) -> str:
    return served_process.url


async def test_the_served_app_registers_logs_in_and_answers_me(served: str, unique) -> None:
    email = f"{unique('served')}@example.org"
    async with httpx.AsyncClient(base_url=served) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Served"},
        )
        assert registered.status_code == 201
        pair = (
            await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        ).json()
        me = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
        assert me.json()["email"] == email
        jwks = await client.get("/api/v1/auth/jwks")
        assert jwks.headers["cache-control"].startswith("public, max-age=")


async def test_oversized_bodies_are_413_problems_declared_or_chunked(served: str) -> None:
    # Over the default limit of 1 MiB, as JSON the route would otherwise parse.
    big = json.dumps(
        {"email": "big@example.org", "password": "x" * (2 * 1024 * 1024), "full_name": "B"}
    ).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        declared = await client.post("/api/v1/auth/register", content=big, headers=headers)
        streamed = await client.post("/api/v1/auth/register", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    for answer in (declared, streamed):
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 413


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from Linux's /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an ended orphan waits for its new parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_hashing_workers_end_when_the_service_is_killed(served_process: Served, unique) -> None:
    registered = httpx.post(
        f"{served_process.url}/api/v1/auth/register",
        json={"email": f"{unique('killed')}@example.org", "password": PASSWORD, "full_name": "K"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    started = children(served_process.process.pid)
    workers = [pid for pid in started if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert workers, "no hashing worker process"

    served_process.process.send_signal(signal.SIGKILL)
    served_process.process.wait(timeout=10)
    try:
        deadline = time.monotonic() + 15
        while left := [pid for pid in started if running(pid)]:
            assert time.monotonic() < deadline, f"still running after the service died: {left}"
            time.sleep(0.1)
    finally:
        for pid in started:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
