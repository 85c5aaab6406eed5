"""The one job runner: periodic runs, stop at a safe point, jitter, supervised tasks."""

from __future__ import annotations

import asyncio
import random

import pytest

from edvent_platform.jobs import RUNS, JobRunner


def runs(service: str, job: str, outcome: str) -> float:
    return RUNS.labels(service, job, outcome)._value.get()


async def test_a_job_runs_again_and_again_until_stopped() -> None:
    runner = JobRunner(service="t-repeat")
    count = 0

    async def work() -> None:
        nonlocal count
        count += 1

    runner.every(0.01, work, name="tick")
    await runner.start()
    deadline = asyncio.get_running_loop().time() + 10
    while count < 3:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await runner.stop()
    stopped_at = count
    await asyncio.sleep(0.05)
    assert count == stopped_at
    assert runs("t-repeat", "tick", "ok") >= 3


async def test_a_failed_run_is_counted_and_the_next_one_still_comes() -> None:
    runner = JobRunner(service="t-fail")
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")

    runner.every(0.01, work, name="flaky")
    await runner.start()
    deadline = asyncio.get_running_loop().time() + 10
    while calls < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await runner.stop()
    assert runs("t-fail", "flaky", "failed") == 1
    assert runs("t-fail", "flaky", "ok") >= 1


async def test_stop_lets_the_run_in_flight_finish() -> None:
    runner = JobRunner(service="t-safe", stop_grace=10)
    started, finished = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.set()

    runner.every(60, work, name="slow")
    await runner.start()
    await asyncio.wait_for(started.wait(), 10)
    await runner.stop()
    assert finished.is_set()


async def test_stop_cancels_a_run_only_past_its_grace() -> None:
    runner = JobRunner(service="t-grace", stop_grace=0.05)
    started = asyncio.Event()
    cancelled = False

    async def work() -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled = True
            raise

    runner.every(60, work, name="stuck")
    await runner.start()
    await asyncio.wait_for(started.wait(), 10)
    await runner.stop()
    assert cancelled


def test_pauses_are_jittered_within_bounds() -> None:
    runner = JobRunner(service="t-jitter", rng=random.Random(1))
    pauses = [runner.pause_for(10, 0.2) for _ in range(200)]
    assert all(8 <= pause <= 12 for pause in pauses)
    assert len({round(pause, 3) for pause in pauses}) > 100


def test_a_job_with_no_interval_never_runs_and_a_single_runner_needs_a_lock() -> None:
    runner = JobRunner(service="t-off")

    async def work() -> None:
        raise AssertionError("never")

    runner.every(0, work, name="off")
    assert runner.job_names == []
    with pytest.raises(ValueError, match="lock"):
        runner.every(1, work, name="locked", single_runner=True)


async def test_spawned_work_is_supervised_and_waited_for_at_stop() -> None:
    runner = JobRunner(service="t-spawn", stop_grace=10)
    await runner.start()
    done = asyncio.Event()

    async def fails() -> None:
        raise RuntimeError("provider down")

    async def slow() -> None:
        await asyncio.sleep(0.05)
        done.set()

    failing = runner.spawn(fails, name="fails")
    runner.spawn(slow, name="slow")
    await runner.stop()
    assert done.is_set()
    assert failing.done() and failing.exception() is None  # logged, not lost
    with pytest.raises(RuntimeError, match="stopping"):
        runner.spawn(slow, name="late")


async def test_a_woken_job_runs_before_its_interval_is_up() -> None:
    runner = JobRunner(service="t-wake")
    count = 0

    async def work() -> None:
        nonlocal count
        count += 1

    runner.every(3600, work, name="queue")
    await runner.start()
    deadline = asyncio.get_running_loop().time() + 10
    while count < 1:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    runner.wake("queue")
    while count < 2:
        assert asyncio.get_running_loop().time() < deadline, "the wake was not heard"
        await asyncio.sleep(0.01)
    await runner.stop()


def test_the_outbox_prune_runs_on_the_service_runner_one_replica_at_a_time(monkeypatch) -> None:
    from edvent_platform import app
    from edvent_platform.settings import ServiceSettings

    monkeypatch.setattr(app, "configure_logging", lambda **_: None)
    runtime = app.build_runtime(
        service="t-prune",
        schema="t_prune",
        settings=ServiceSettings(
            database_url="postgresql+psycopg://svc:pw@127.0.0.1:1/none",
            outbox_prune_interval_seconds=42,
        ),
    )
    assert runtime.jobs.schedule()["outbox-prune"] == (42, True)
