"""Benchmark of the content service: `uv run python -m bench.content`.

Real PostgreSQL, Kafka and S3 (S3Proxy), identity and content started as their real
commands (`edvent-<service> serve`, one uvicorn worker each), measured straight at
content's port (no gateway):

1. `GET /api/v1/courses` (a page of 20 published courses, anonymous): requests/s and
   p50/p99 latency at BENCH_CONCURRENCY (default 16) concurrent requests for
   BENCH_CONTENT_SECONDS (default 10).
2. Lesson upload throughput: `PUT /api/v1/lessons/{id}/content` with 1 MiB bodies,
   each different (so each is hashed, stored in S3 and recorded), BENCH_UPLOADS
   (default 100) of them at 4 at a time, in MiB/s.

`make bench` runs it after the outbox and identity benchmarks and writes its section
into bench/RESULTS.md; alone, it prints the section.
"""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import tempfile
import time
from pathlib import Path

import httpx

from bench import percentile
from edvent_localstack.kafka import KafkaBroker
from edvent_localstack.postgres import PostgresServer, service_database
from edvent_localstack.process import ManagedProcess, free_port
from edvent_localstack.s3 import S3Server, ensure_bucket
from edvent_localstack.services import SERVICES

BUCKET = "edvent-lessons"
PASSWORD = "benchmark password 123"  # noqa: S105 - a throwaway local stack
MIB = 1024 * 1024


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def token(identity: str, admin_email: str, *, role: str | None) -> str:
    async with httpx.AsyncClient(base_url=identity, timeout=30) as http:
        email = f"bench-{time.monotonic_ns()}@example.com"
        user = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "B"}
        )
        user.raise_for_status()
        if role is not None:
            admin = await http.post(
                "/api/v1/auth/login", json={"email": admin_email, "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            changed = await http.patch(
                f"/api/v1/users/{user.json()['id']}", json={"role": role}, headers=headers
            )
            changed.raise_for_status()
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
        return str(login.json()["access_token"])


async def list_courses(
    content: str, *, seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=content, timeout=30, limits=limits) as http:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get("/api/v1/courses", params={"limit": 20})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200 and len(response.json()["items"]) == 20

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, sorted(latencies)


async def uploads(content: str, auth: dict[str, str], *, count: int) -> float:
    async with httpx.AsyncClient(base_url=content, timeout=60, headers=auth) as http:
        course = (await http.post("/api/v1/courses", json={"title": "Uploads"})).json()
        lesson = (
            await http.post(
                f"/api/v1/courses/{course['id']}/lessons",
                json={"title": "L", "content_markdown": "# start"},
            )
        ).json()
        bodies = [(b"# Body %d\n" % i).ljust(MIB, b"x") for i in range(count)]
        queue = list(bodies)

        async def worker() -> None:
            while queue:
                body = queue.pop()
                response = await http.put(
                    f"/api/v1/lessons/{lesson['id']}/content",
                    content=body,
                    headers={"Content-Type": "text/markdown"},
                )
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(4)))
        elapsed = time.perf_counter() - started
    return count * len(bodies[0]) / MIB / elapsed


async def run() -> str:
    seconds = float(os.environ.get("BENCH_CONTENT_SECONDS", "10"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "16"))
    count = int(os.environ.get("BENCH_UPLOADS", "100"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-content-"))
    postgres = PostgresServer(data_dir=work / "pg", port=free_port(), log_file=work / "pg.log")
    kafka = KafkaBroker(
        data_dir=work / "kafka", port=free_port(), controller_port=free_port(),
        log_file=work / "kafka.log",
    )  # fmt: skip
    s3 = S3Server(data_dir=work / "s3", port=free_port(), log_file=work / "s3.log")
    started: list[object] = []
    try:
        for part in (postgres, kafka, s3):
            part.start()
            started.append(part)
        ensure_bucket(
            endpoint_url=s3.endpoint_url, access_key=s3.access_key, secret_key=s3.secret_key,
            region=s3.region, bucket=BUCKET,
        )  # fmt: skip
        ports = {name: free_port() for name in ("identity", "content")}
        identity_url = f"http://127.0.0.1:{ports['identity']}"
        admin_email = "bench-admin@example.com"
        for name in ("identity", "content"):
            service = SERVICES[name]
            database = service_database(name)
            postgres.provision(database)
            url = postgres.service_url(database)
            prefix = service.env_prefix
            env = dict(os.environ)
            env.update({
                f"{prefix}DATABASE_URL": url,
                f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                f"{prefix}LOG_LEVEL": "WARNING",
                f"{prefix}JWKS_URL": f"{identity_url}/api/v1/auth/jwks",
                f"{prefix}S3_ENDPOINT_URL": s3.endpoint_url,
                f"{prefix}S3_ACCESS_KEY": s3.access_key,
                f"{prefix}S3_SECRET_KEY": s3.secret_key,
                f"{prefix}S3_BUCKET": BUCKET,
                "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                "IDENTITY_ARGON2_TIME_COST": "2",
                "IDENTITY_ARGON2_MEMORY_KIB": "19456",
                "IDENTITY_LOGIN_MAX_FAILURES_PER_CLIENT": "1000",
            })  # fmt: skip
            service.migrate(url, env)
            if name == "identity":
                result = service.run(
                    "create-admin", "--email", admin_email, database_url=url, env=env
                )
                assert result.returncode == 0, result.stderr
            process = ManagedProcess(
                name, [service.command(), "serve", "--port", str(ports[name])],
                work / f"{name}.log", env=env,
            )  # fmt: skip
            process.start()
            started.append(process)
            process.wait_ready(
                functools.partial(_ready, f"http://127.0.0.1:{ports[name]}/readyz"), timeout=90
            )
        content = f"http://127.0.0.1:{ports['content']}"
        auth = {
            "Authorization": f"Bearer {await token(identity_url, admin_email, role='INSTRUCTOR')}"
        }
        async with httpx.AsyncClient(base_url=content, timeout=30, headers=auth) as http:
            for i in range(25):
                course = (await http.post("/api/v1/courses", json={"title": f"Course {i}"})).json()
                await http.post(f"/api/v1/courses/{course['id']}/publish")
        await list_courses(content, seconds=1, concurrency=concurrency)  # warm-up
        rate, latencies = await list_courses(content, seconds=seconds, concurrency=concurrency)
        mib_per_s = await uploads(content, auth, count=count)
    finally:
        for part in reversed(started):
            part.stop()  # type: ignore[attr-defined]
    return "\n".join(
        [
            "## content service",
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; one uvicorn worker, straight to its port.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| GET /api/v1/courses (20 items, anonymous), {concurrency} concurrent | "
            f"{rate:.0f} req/s |",
            f"| its latency p50 / p99 | {percentile(latencies, 50) * 1000:.1f} ms / "
            f"{percentile(latencies, 99) * 1000:.1f} ms |",
            f"| lesson upload, 1 MiB bodies, 4 at a time ({count}) | {mib_per_s:.1f} MiB/s |",
            "",
        ]
    )


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
