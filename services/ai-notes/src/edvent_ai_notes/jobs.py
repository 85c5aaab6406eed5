"""The note jobs runner: regenerate requests, and notes put off by the token budget,
taken from the `note_jobs` table by a few workers per process.

Supervised, not fired and forgotten: the app starts and stops it; a job lives in the
database until done, so a crash or a restart loses nothing (a claimed job's lease ends
and another worker takes it). Workers claim with FOR UPDATE SKIP LOCKED, so replicas
share the table without running one job twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from edvent_ai_notes.db import jobs as jobs_db
from edvent_ai_notes.usecases import notes as notes_usecase
from edvent_ai_notes.usecases.notes import Pipeline
from edvent_platform.db import transaction

logger = logging.getLogger("edvent.ai_notes.jobs")


class NoteJobs:
    def __init__(
        self,
        *,
        pipeline: Pipeline,
        workers: int,
        poll_interval: float,
        lease: timedelta,
        max_attempts: int,
        stop_grace: float = 10.0,
    ) -> None:
        self.pipeline = pipeline
        self.workers = workers
        self.poll_interval = poll_interval
        self.lease = lease
        self.max_attempts = max_attempts
        self.stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._work(), name=f"note-jobs-{n}") for n in range(self.workers)
        ]

    def wake(self) -> None:
        """A job was added: look now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> bool:
        """Claim and run one due job; whether there was one."""
        async with transaction(self.pipeline.sessions) as session:
            job = await jobs_db.claim_job(session, lease=self.lease)
        if job is None:
            return False
        await notes_usecase.run_job(pipeline=self.pipeline, job=job, max_attempts=self.max_attempts)
        return True

    async def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                if await self.run_once():
                    continue
            except Exception:
                logger.exception("a note job failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    async def stop(self) -> None:
        """Let runs in flight finish (their writes commit); cancel past `stop_grace`: a
        cancelled run's job is claimed again once its lease ends."""
        self._stopping.set()
        self._wake.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=self.stop_grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
