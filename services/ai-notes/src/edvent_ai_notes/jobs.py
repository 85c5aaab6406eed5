"""The service's jobs: the note jobs (regenerate requests, and notes put off by the token
budget, taken from the `note_jobs` table by a few workers per process) and the recount
of the search's word counts.

They run on the service's one job runner (libs/platform), not fired and forgotten: a
job lives in the database until done, so a crash or a restart loses nothing (a claimed
job's lease ends and another worker takes it). Workers claim with FOR UPDATE SKIP
LOCKED, so replicas share the table without running one job twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes.db import jobs as jobs_db
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db import term_stats as term_stats_db
from edvent_ai_notes.db.jobs import ClaimedJob
from edvent_ai_notes.usecases import notes as notes_usecase
from edvent_ai_notes.usecases.notes import Pipeline
from edvent_platform.db import transaction
from edvent_platform.jobs import JobRunner


class NoteJobs:
    def __init__(
        self,
        *,
        pipeline: Pipeline,
        workers: int,
        poll_interval: float,
        lease: timedelta,
        max_attempts: int,
    ) -> None:
        self.pipeline = pipeline
        self.workers = workers
        self.poll_interval = poll_interval
        self.lease = lease
        self.max_attempts = max_attempts
        self._runner: JobRunner | None = None
        self._names = [f"note-jobs-{n}" for n in range(workers)]

    def register(self, runner: JobRunner) -> None:
        """`workers` jobs on the runner, each draining the table, then pausing."""
        self._runner = runner
        for name in self._names:
            runner.every(self.poll_interval, self.drain, name=name)

    def wake(self) -> None:
        """A job was added: look now rather than at the next poll."""
        if self._runner is not None:
            self._runner.wake(*self._names)

    async def run_once(self) -> bool:
        """Claim and run one due job; whether there was one."""
        async with transaction(self.pipeline.sessions) as session:
            job = await jobs_db.claim_job(session, lease=self.lease)
        if job is None:
            return False
        await self._run(job)
        return True

    async def _run(self, job: ClaimedJob) -> None:
        """One claimed note job: the pipeline again for the lesson's current body, each
        step in a unit of work of its own around the slow part. A spent budget puts it
        off again (still pending); a provider or storage failure is retried with
        backoff up to `max_attempts`, then the note stays `failed`."""
        sessions = self.pipeline.sessions
        async with transaction(sessions) as session:
            lesson = await notes_db.lesson(session, lesson_id=job.lesson_id)
            settled = (
                None
                if lesson is None
                else await notes_usecase.admit_notes(session=session, lesson=lesson, force=True)
            )
        if lesson is None:
            return  # deleted meanwhile: its job went with it
        try:
            apply = settled or await notes_usecase.prepare_notes(
                pipeline=self.pipeline, lesson=lesson
            )
        except notes_usecase.AttemptFailed as failed:
            async with transaction(sessions) as session:
                await notes_usecase.job_failed(
                    session=session, job=job, failed=failed, max_attempts=self.max_attempts
                )
            return
        except Exception as exc:
            async with transaction(sessions) as session:
                await notes_usecase.job_crashed(session=session, job=job, lesson=lesson, error=exc)
            raise
        async with transaction(sessions) as session:
            await notes_usecase.job_done(session=session, job=job, apply=apply)

    async def drain(self) -> None:
        # A job cut off at stop is claimed again once its lease ends.
        while await self.run_once():
            pass


class TermStatsRefresh:
    """Recounts term_stats (the search's IDF) after lessons, courses or chunks changed:
    at most once an interval, so a burst of publications costs one recount. One replica
    at a time (the recount reads every public chunk)."""

    name = "term-stats"

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self.sessions = sessions
        self.interval = interval

    def register(self, runner: JobRunner) -> None:
        runner.every(self.interval, self.run_once, name=self.name, single_runner=True)

    async def run_once(self) -> bool:
        """Whether it recounted (nothing changed since the last recount: no)."""
        async with transaction(self.sessions) as session:
            return await term_stats_db.refresh(session)
