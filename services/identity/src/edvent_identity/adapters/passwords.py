"""Argon2id password hashing in a small pool of niced worker processes, bounded.

Argon2 is deliberately slow and memory-hard. Run on the service's own threads, a
login storm takes the CPU the event loop needs for every other request. So hashes
run in worker processes whose priority is lowered (`os.nice`): they get what the
event loop leaves. At most `workers + queue` hashing requests are admitted at once;
the next one is refused at once (`PasswordHashingBusy`, answered 503 with
Retry-After) instead of waiting seconds in a queue. Workers end with the service,
even when it is killed (`_end_with_parent`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
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
    SIGKILLed service would leave it waiting forever, an orphan. `spawn` gives
    every child a sentinel: the read end of a pipe whose write end only the parent
    holds, so it reads as closed once the parent is gone. A daemon thread waits on
    it. Unlike Linux's
    PR_SET_PDEATHSIG this is not tied to the parent thread that started the worker
    (the pool starts workers from whichever thread submits first), has no race with a
    parent dying before the worker is set up, and needs no polling.
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
        retry_after: int = 1,
    ) -> None:
        if memory_kib < MIN_MEMORY_KIB or time_cost < MIN_TIME_COST:
            raise ValueError("Argon2id parameters below the OWASP minimum")
        self._parameters = (time_cost, memory_kib, parallelism)
        self._workers = workers
        self._nice = nice
        self.capacity = workers + queue
        self.retry_after = retry_after
        self._admitted = 0
        self._executor: ProcessPoolExecutor | None = None
        self._dummy_hash: str | None = None
        # Only for `needs_rehash`, which reads parameters and hashes nothing.
        self._local = _new_hasher(*self._parameters)

    async def start(self) -> None:
        """Start a worker and make the dummy hash now, not in the first login."""
        await self._dummy()

    @property
    def admitted(self) -> int:
        """Hashing requests running or waiting now."""
        return self._admitted

    @contextmanager
    def slot(self) -> Iterator[Hashing]:
        """Admission for the hashing one request needs; `PasswordHashingBusy` at once
        when `workers + queue` requests hold one already."""
        if self._admitted >= self.capacity:
            raise PasswordHashingBusy(retry_after=self.retry_after)
        self._admitted += 1
        try:
            yield Hashing(self)
        finally:
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
