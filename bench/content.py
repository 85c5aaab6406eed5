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
import os
import platform
import tempfile
import time
from pathlib import Path

import httpx

from bench import percentile
from bench.stack import account, infrastructure, services

MIB = 1024 * 1024


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
    with (
        infrastructure(work, s3=True) as infra,
        services(infra, ("identity", "content")) as urls,
    ):
        content = urls["content"]
        instructor, _ = await account(urls["identity"], role="INSTRUCTOR")
        auth = {"Authorization": f"Bearer {instructor}"}
        async with httpx.AsyncClient(base_url=content, timeout=30, headers=auth) as http:
            for i in range(25):
                course = (await http.post("/api/v1/courses", json={"title": f"Course {i}"})).json()
                await http.post(f"/api/v1/courses/{course['id']}/publish")
        await list_courses(content, seconds=1, concurrency=concurrency)  # warm-up
        rate, latencies = await list_courses(content, seconds=seconds, concurrency=concurrency)
        mib_per_s = await uploads(content, auth, count=count)
    return "\n".join(
        [
            "## content service",
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; one uvicorn worker, straight to its port. "
            "The client is httpx in this benchmark's own process on the same cores, so the "
            "list's rate is the client's as much as the service's (a Python client costs "
            "more per request than the cached list); wrk's figures are in the gateway load.",
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
