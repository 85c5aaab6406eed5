"""A background job run every few seconds in the service's event loop, one pass at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger("edvent.assessment.periodic")


class Periodic:
    """Runs `run_once` every `interval` seconds (never, for an interval of 0) until
    stopped. A failed pass is logged and the next one comes at the next interval (the
    database may be away)."""

    name = "periodic job"
    # Whether the first pass waits one interval, rather than running at start.
    wait_first = False

    def __init__(self, *, interval: float, stop_grace: float = 10.0) -> None:
        self.interval = interval
        self.stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

    async def _run(self) -> None:
        if self.wait_first:
            await self._pause()
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                logger.exception("%s failed", self.name)
            await self._pause()

    async def stop(self) -> None:
        """Let the pass in flight commit (cancelling a task inside a transaction can
        leave its connection stranded); cancel only past `stop_grace`, which rolls the
        pass back for the next run to redo."""
        self._stopping.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
