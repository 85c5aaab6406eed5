"""Argon2id password hashing in a small pool of niced worker processes, bounded.

Argon2 is deliberately slow and memory-hard. Run on the service's own threads, a
login storm takes the CPU the event loop needs for every other request. So hashes
run in worker processes whose priority is lowered (`os.nice`): they get what the
event loop leaves. At most `workers + queue` hashing requests are admitted at once.
The next ones wait for a slot, up to `waiting` of them for at most `wait_seconds`;
past that they are refused (`PasswordHashingBusy`, answered 503 with Retry-After).
Workers end with the service, even when it is killed (`_end_with_parent`).

Waiting, not refusing at once: a refusal costs the event loop about as much as a
cheap request, and clients that log in again as soon as they are answered (a
benchmark's 50 connections, a retrying script) turned each refusal into the next
request, hundreds a second, taking the CPU the other requests needed. A waiting
login costs nothing until its slot comes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from edvent_identity.domain.errors import PasswordHashingBusy

# OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1); settings refuse anything weaker.
MIN_MEMORY_KIB = 19_456
MIN_TIME_COST = 2

T = TypeVar("T")

# The worker process's hasher, set by `_start_worker`.
_hasher: PasswordHasher | None = None


def _new_hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def _start_worker(nice: int, time_cost: int, memory_kib: int, parallelism: int) -> None:
    global _hasher
    _end_with_parent()
    if nice:
        os.nice(nice)
    _hasher = _new_hasher(time_cost, memory_kib, parallelism)


def _end_with_parent() -> None:
    """Exit the worker as soon as the service process is gone, however it ended.

    A worker waits on the pool's call queue, whose pipe it holds both ends of, so a
    SIGKILLed service would leave it waiting forever, an orphan. `spawn` gives every
    child a sentinel: the read end of a pipe whose write end only the parent holds, so
    it reads as closed once the parent is gone. A daemon thread waits on it. Unlike
    Linux's PR_SET_PDEATHSIG this is not tied to the parent thread that started the
    worker (the pool starts workers from whichever thread submits first), has no race
    with a parent dying before the worker is set up, and needs no polling.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _hash(password: str) -> str:
    assert _hasher is not None
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    assert _hasher is not None
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Passwords:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        workers: int,
        queue: int,
        nice: int,
        waiting: int = 0,
        wait_seconds: float = 0.0,
        retry_after: int = 1,
    ) -> None:
        if memory_kib < MIN_MEMORY_KIB or time_cost < MIN_TIME_COST:
            raise ValueError("Argon2id parameters below the OWASP minimum")
        self._parameters = (time_cost, memory_kib, parallelism)
        self._workers = workers
        self._nice = nice
        self.capacity = workers + queue
        self.waiting_room = waiting
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after
        self._admitted = 0
        # Requests waiting for a slot, first come first served; a slot given back is
        # handed to the first of them (its future resolved) rather than freed.
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._executor: ProcessPoolExecutor | None = None
        self._dummy_hash: str | None = None
        # Only for `needs_rehash`, which reads parameters and hashes nothing.
        self._local = _new_hasher(*self._parameters)

    async def start(self) -> None:
        """Start a worker and make the dummy hash now, not in the first login."""
        await self._dummy()

    @property
    def admitted(self) -> int:
        """Hashing requests holding a slot now (hashing or queued for a worker)."""
        return self._admitted

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Hashing]:
        """Admission for the hashing one request needs. When `workers + queue`
        requests hold a slot, wait for one (at most `wait_seconds`, and only while
        fewer than `waiting` others wait); otherwise `PasswordHashingBusy`."""
        await self._admit()
        try:
            yield Hashing(self)
        finally:
            self._release()

    async def _admit(self) -> None:
        if self._admitted < self.capacity and not self._waiters:
            self._admitted += 1
            return
        if len(self._waiters) >= self.waiting_room or self.wait_seconds <= 0:
            raise PasswordHashingBusy(retry_after=self.retry_after)
        handed = asyncio.get_running_loop().create_future()
        self._waiters.append(handed)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await asyncio.shield(handed)
        except BaseException as exc:
            if handed.done():  # handed a slot as the wait ended: pass it on
                self._release()
            else:
                handed.cancel()
                self._waiters.remove(handed)
            if isinstance(exc, TimeoutError):
                raise PasswordHashingBusy(retry_after=self.retry_after) from None
            raise

    def _release(self) -> None:
        # A waiter leaves the queue the moment its wait ends, so every one here waits.
        if self._waiters:
            self._waiters.popleft().set_result(None)  # the slot goes to it as it is
            return
        self._admitted -= 1

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self._local.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                # Not fork: the service has threads (and an event loop) by now.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self._nice, *self._parameters),
            )
        return self._executor

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        pool = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start afresh for the next request.
            if self._executor is pool:
                self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._run(_hash, secrets.token_urlsafe(24))
        return self._dummy_hash


class Hashing:
    """The hashing one admitted request may do (see `Passwords.slot`)."""

    def __init__(self, passwords: Passwords) -> None:
        self._passwords = passwords

    async def hash(self, password: str) -> str:
        return await self._passwords._run(_hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._passwords._run(_verify, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        """Verify against a hash of nothing, so that an unknown email takes as long as
        a wrong password for a real account."""
        await self.verify(await self._passwords._dummy(), password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._passwords.needs_rehash(password_hash)
