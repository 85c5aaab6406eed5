"""A single-runner job runs on one replica at a time, by a PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio

import pytest

from edvent_platform.db import create_engine
from edvent_platform.jobs import JobRunner

pytestmark = pytest.mark.integration


async def test_two_replicas_never_run_a_single_runner_job_at_once(postgres, scratch_schema):
    url = postgres.service_url(scratch_schema)
    engines = [create_engine(url, schema=scratch_schema.schema, app_name=f"r{i}") for i in (1, 2)]
    running = 0
    most = 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    replicas = [JobRunner(service="jobs-test", engine=engine) for engine in engines]
    for replica in replicas:
        replica.every(60, work, name="sweeper", single_runner=True)
    try:
        first = asyncio.create_task(replicas[0].run_once("sweeper"))
        deadline = asyncio.get_running_loop().time() + 10
        while running == 0:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        # The other replica finds the lock taken and skips its run.
        assert await replicas[1].run_once("sweeper") == "skipped"
        release.set()
        assert await first == "ok"
        # Released: the other replica runs now.
        assert await replicas[1].run_once("sweeper") == "ok"
        assert most == 1
    finally:
        for engine in engines:
            await engine.dispose()
