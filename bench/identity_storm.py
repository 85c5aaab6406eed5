"""identity under a login storm: do cheap requests still get served?

PostgreSQL and Kafka are started, identity is migrated and run as `edvent-identity
serve` (uvicorn, one process, default Argon2 and hashing settings). Then, on that one
instance, two phases of BENCH_IDENTITY_SECONDS each (default 15):

- calm: PROBES clients (8) call `GET /api/v1/auth/jwks` and `GET /api/v1/users/me`
  in turns, back to back;
- storm: the same probes while 16 more clients log in continuously (a 503 or 429 is
  honoured: the client waits `Retry-After`, as the contract asks).

The clients speak HTTP/1.1 over raw keep-alive sockets, so the measuring side costs
little CPU on a machine the service shares. `python -m bench.identity_storm` runs
only this part.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import percentile
from edvent_localstack.kafka import KafkaBroker
from edvent_localstack.postgres import PostgresServer, service_database
from edvent_localstack.process import free_port
from edvent_localstack.services import SERVICES

PROBES = 8
STORM_CLIENTS = 16
PASSWORD = "correct horse battery staple"  # noqa: S105 - a bench account


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough client for this benchmark."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, body: object = None, token: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: identity", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines if line)
        }
        content = await self._reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, content

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


@dataclass
class Phase:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"jwks": [], "me": []})
    errors: int = 0
    logins: list[float] = field(default_factory=list)
    login_statuses: dict[int, int] = field(default_factory=dict)

    def rate(self, name: str) -> float:
        return len(self.latencies[name]) / self.seconds

    def p(self, name: str, q: int) -> float:
        values = sorted(self.latencies[name])
        return percentile(values, q) * 1000 if values else 0.0


async def probe(port: int, token: str, phase: Phase, stop: asyncio.Event) -> None:
    conn = Connection(port)
    try:
        while not stop.is_set():
            for name, path in (("jwks", "/api/v1/auth/jwks"), ("me", "/api/v1/users/me")):
                started = time.perf_counter()
                status, _, _ = await conn.request("GET", path, token=token)
                if status == 200:
                    phase.latencies[name].append(time.perf_counter() - started)
                else:
                    phase.errors += 1
    finally:
        conn.close()


async def storm(port: int, email: str, phase: Phase, stop: asyncio.Event) -> None:
    conn = Connection(port)
    body = {"email": email, "password": PASSWORD}
    try:
        while not stop.is_set():
            started = time.perf_counter()
            status, headers, _ = await conn.request("POST", "/api/v1/auth/login", body=body)
            phase.login_statuses[status] = phase.login_statuses.get(status, 0) + 1
            if status == 200:
                phase.logins.append(time.perf_counter() - started)
            elif status in (429, 503):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), float(headers.get("retry-after", "1")))
    finally:
        conn.close()


async def measure(port: int, token: str, emails: list[str], seconds: float) -> Phase:
    phase, stop = Phase(), asyncio.Event()
    tasks = [asyncio.create_task(storm(port, email, phase, stop)) for email in emails]
    if emails:
        await asyncio.sleep(2)  # let the storm build up before measuring
        phase.login_statuses.clear()
        phase.logins.clear()
    probes = [asyncio.create_task(probe(port, token, phase, stop)) for _ in range(PROBES)]
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    phase.seconds = time.perf_counter() - started
    await asyncio.gather(*probes, *tasks)
    return phase


async def prepare(port: int) -> tuple[str, list[str]]:
    conn = Connection(port)
    try:
        emails = [f"storm-{i}@example.org" for i in range(STORM_CLIENTS)]
        for email in ["probe@example.org", *emails]:
            body = {"email": email, "password": PASSWORD, "full_name": "Bench"}
            status, _, content = await conn.request("POST", "/api/v1/auth/register", body=body)
            assert status == 201, content
        status, _, content = await conn.request(
            "POST",
            "/api/v1/auth/login",
            body={"email": "probe@example.org", "password": PASSWORD},
        )
        assert status == 200, content
        return json.loads(content)["access_token"], emails
    finally:
        conn.close()


def start_identity(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "edvent-identity"), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"identity exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"identity did not become ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


async def run() -> str:
    seconds = float(os.environ.get("BENCH_IDENTITY_SECONDS", "15"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-identity-"))
    postgres = PostgresServer(data_dir=work / "pg", port=free_port(), log_file=work / "pg.log")
    kafka = KafkaBroker(
        data_dir=work / "kafka", port=free_port(), controller_port=free_port(),
        log_file=work / "kafka.log", default_partitions=3,
    )  # fmt: skip
    postgres.start()
    kafka.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        database = service_database("identity")
        postgres.provision(database)
        url = postgres.service_url(database)
        SERVICES["identity"].migrate(postgres.migrator_url(database))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")} | {
            "IDENTITY_DATABASE_URL": url,
            **kafka.service_env("identity", "IDENTITY_"),
        }
        log = work / "identity.log"
        process = start_identity(port, env, log)
        wait_ready(port, process, log)
        token, emails = await prepare(port)
        await measure(port, token, [], 3)  # warm-up
        calm = await measure(port, token, [], seconds)
        stormy = await measure(port, token, emails, seconds)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        kafka.stop()
        postgres.stop()
    return report(calm, stormy, seconds)


def report(calm: Phase, stormy: Phase, seconds: float) -> str:
    rows = []
    for name, path in (("jwks", "GET /api/v1/auth/jwks"), ("me", "GET /api/v1/users/me")):
        ratio = stormy.rate(name) / calm.rate(name) if calm.rate(name) else 0.0
        p99_ok = stormy.p(name, 99) <= 100
        rows.append(
            f"| {path} | {calm.rate(name):,.0f} req/s, p50 {calm.p(name, 50):.1f} ms, "
            f"p99 {calm.p(name, 99):.1f} ms | {stormy.rate(name):,.0f} req/s, "
            f"p50 {stormy.p(name, 50):.1f} ms, p99 {stormy.p(name, 99):.1f} ms | "
            f"{ratio:.0%} ({verdict(ratio >= 0.5)}), p99 ({verdict(p99_ok)}) |"
        )
    logins = sorted(stormy.logins)
    login_p50 = statistics.median(logins) * 1000 if logins else 0.0
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(stormy.login_statuses.items()))
    table = "\n".join(rows)
    return f"""
## identity under a login storm ({seconds:.0f} s per phase)

Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()}
cores. One `edvent-identity serve` process with default settings; {PROBES} probe clients
calling both endpoints in turns; the storm adds {STORM_CLIENTS} clients logging in
continuously (waiting Retry-After on 503/429).

| endpoint | calm | storm | storm / calm, p99 ≤ 100 ms |
|---|---|---|---|
{table}

Storm logins: {len(logins) / seconds:.1f} succeeded/s (p50 {login_p50:.0f} ms); answers
{statuses or "none"}. Probe errors: calm {calm.errors}, storm {stormy.errors}.
Targets: storm throughput ≥ 50% of calm and storm p99 ≤ 100 ms.
"""


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def main() -> None:
    sys.stdout.write(asyncio.run(run()))


if __name__ == "__main__":
    main()
