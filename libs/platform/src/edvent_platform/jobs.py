"""The one way a service runs background work: periodic jobs and supervised tasks.

A service registers its jobs with a `JobRunner` in its composition root and starts and
stops the runner with its lifespan:

    runner = JobRunner(service="assessment", engine=engine)
    runner.every(5, sweep_expired_attempts, name="sweeper", single_runner=True)
    await runner.start()
    ...
    await runner.stop()

- **Stops at a safe point.** `stop()` lets a run in flight finish (a task cancelled in
  the middle of a transaction can strand its connection) and cancels only past
  `stop_grace`; the next run redoes what a cancelled one rolled back.
- **Jitter.** Each pause is the interval times a random factor in [1 - j, 1 + j], so
  replicas started together do not hit the database in step.
- **One runner across replicas.** A job declared `single_runner` takes a PostgreSQL
  advisory lock for each run (session level, on a connection of its own) and skips
  the run when another replica holds it. A replica that dies releases it with its
  connection.
- **Metrics**: runs by outcome, duration, and the time of the last success.
- **Run log** (`log_runs`, `<SERVICE>_LOG_JOB_RUNS`): each run of a single-runner job
  that held its lock is logged with its start and end (wall clock, with the process id),
  so runs of all replicas can be laid side by side (the replicas drill does).
- **Supervised tasks.** `spawn()` runs one-off work (a regenerate request) under the
  same stop rules instead of a bare `asyncio.create_task`: the runner keeps it, logs
  its failure, and waits for it at stop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("edvent.jobs")

Work = Callable[[], Awaitable[object]]

RUNS = Counter(
    "edvent_job_runs_total",
    "Background job runs by outcome: ok, failed, or skipped (another replica held the lock)",
    ["service", "job", "outcome"],
)
DURATION = Histogram(
    "edvent_job_duration_seconds",
    "How long one run of a background job took",
    ["service", "job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
)
LAST_SUCCESS = Gauge(
    "edvent_job_last_success_timestamp_seconds",
    "Unix time of a background job's last successful run",
    ["service", "job"],
    multiprocess_mode="max",
)
TASKS = Gauge(
    "edvent_job_tasks_in_flight",
    "Supervised one-off tasks running now",
    ["service"],
    multiprocess_mode="livesum",
)


def lock_key(service: str, job: str) -> int:
    """A stable 32-bit advisory lock key per (service, job)."""
    return zlib.crc32(f"edvent:{service}:{job}".encode()) - 2**31


@dataclass
class _Job:
    name: str
    interval: float
    work: Work
    jitter: float
    single_runner: bool
    wait_first: bool
    woken: asyncio.Event = field(default_factory=asyncio.Event)


class JobRunner:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine | None = None,
        stop_grace: float = 10.0,
        rng: random.Random | None = None,
        log_runs: bool = False,
    ) -> None:
        self.service = service
        self.log_runs = log_runs
        self._engine = engine
        self.stop_grace = stop_grace
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._jobs: list[_Job] = []
        self._stopping = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False

    # -- registration ------------------------------------------------------------------

    def every(
        self,
        interval: float,
        work: Work,
        *,
        name: str,
        jitter: float = 0.1,
        single_runner: bool = False,
        wait_first: bool = False,
    ) -> None:
        """Run `work` every `interval` seconds (an interval of 0 or less: never)."""
        if self._started:
            raise RuntimeError("register jobs before start()")
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        if single_runner and self._engine is None:
            raise ValueError(f"{name}: a single-runner job needs the runner's engine for its lock")
        if interval > 0:
            self._jobs.append(_Job(name, interval, work, jitter, single_runner, wait_first))

    @property
    def job_names(self) -> list[str]:
        return [job.name for job in self._jobs]

    def schedule(self) -> dict[str, tuple[float, bool]]:
        """Each job's (interval, single_runner): what runs where across replicas."""
        return {job.name: (job.interval, job.single_runner) for job in self._jobs}

    def wake(self, *names: str) -> None:
        """Cut the pause of these jobs short (new work just arrived): they run now."""
        for job in self._jobs:
            if job.name in names:
                job.woken.set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._started = True
        self._stopping.clear()
        self._loops = [
            asyncio.create_task(self._loop(job), name=f"{self.service}-job-{job.name}")
            for job in self._jobs
        ]

    async def stop(self) -> None:
        """Finish what runs (up to `stop_grace` in all), then cancel what is left."""
        self._stopping.set()
        for job in self._jobs:
            job.woken.set()
        pending = [*self._loops, *self._tasks]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.stop_grace)
            for task in late:
                logger.warning("%s: %s did not stop in time; cancelling", self.service, task)
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=self.stop_grace)
        self._loops = []
        self._started = False

    def spawn(self, work: Work, *, name: str) -> asyncio.Task[None]:
        """Run one-off work under the runner's supervision (not fire and forget)."""
        if self._stopping.is_set():
            raise RuntimeError("the job runner is stopping")
        task = asyncio.create_task(self._supervised(work, name), name=f"{self.service}-{name}")
        self._tasks.add(task)
        TASKS.labels(self.service).inc()
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        TASKS.labels(self.service).dec()

    async def _supervised(self, work: Work, name: str) -> None:
        try:
            await work()
        except Exception:
            logger.exception("%s: task %s failed", self.service, name)

    # -- one job -----------------------------------------------------------------------

    def pause_for(self, job_interval: float, jitter: float) -> float:
        return job_interval * (1 + self._rng.uniform(-jitter, jitter))

    async def _pause(self, job: _Job) -> None:
        if job.woken.is_set():
            job.woken.clear()
            return
        stopping = asyncio.ensure_future(self._stopping.wait())
        woken = asyncio.ensure_future(job.woken.wait())
        try:
            await asyncio.wait(
                {stopping, woken},
                timeout=self.pause_for(job.interval, job.jitter),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopping.cancel()
            woken.cancel()
        job.woken.clear()

    async def _loop(self, job: _Job) -> None:
        if job.wait_first:
            await self._pause(job)
        while not self._stopping.is_set():
            await self.run_once(job.name)
            await self._pause(job)

    async def run_once(self, name: str) -> str:
        """One run of the job called `name`, now: "ok", "failed" or "skipped"."""
        job = next(job for job in self._jobs if job.name == name)
        started = time.perf_counter()
        try:
            if job.single_runner:
                ran = await self._run_locked(job)
            else:
                await job.work()
                ran = True
        except Exception:
            logger.exception("%s: job %s failed", self.service, job.name)
            outcome = "failed"
        else:
            outcome = "ok" if ran else "skipped"
        if outcome != "skipped":
            DURATION.labels(self.service, job.name).observe(time.perf_counter() - started)
        if outcome == "ok":
            LAST_SUCCESS.labels(self.service, job.name).set(time.time())
        RUNS.labels(self.service, job.name, outcome).inc()
        return outcome

    async def _run_locked(self, job: _Job) -> bool:
        assert self._engine is not None
        key = lock_key(self.service, job.name)
        async with self._engine.connect() as conn:
            taken = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            ).scalar()
            await conn.commit()
            if not taken:
                return False
            started = time.time()
            try:
                await job.work()
            finally:
                # Before the unlock: within [started, ended] this process held the lock.
                ended = time.time()
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
                if self.log_runs:
                    logger.info(
                        "%s: job %s ran",
                        self.service,
                        job.name,
                        extra={
                            "job": job.name,
                            "job_started": started,
                            "job_ended": ended,
                            "pid": os.getpid(),
                        },
                    )
        return True
