"""Argon2id password hashing, off the event loop.

Hashing is deliberately slow and memory-hard, so it runs on a small thread pool of
its own: a login storm queues there instead of stalling every other request, and
the pool's size bounds the memory the hashes take (threads x memory cost).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1); settings refuse anything weaker.
MIN_MEMORY_KIB = 19_456
MIN_TIME_COST = 2

T = TypeVar("T")


class Passwords:
    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, max_threads: int
    ) -> None:
        if memory_kib < MIN_MEMORY_KIB or time_cost < MIN_TIME_COST:
            raise ValueError("Argon2id parameters below the OWASP minimum")
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="argon2")
        # Verified against when the email is unknown, so that answer takes as long as
        # a wrong password for a real account.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self._verify, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
