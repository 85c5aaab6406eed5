"""Argon2id hashing: parameters, verification, rehash, off the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from edvent_identity.security.passwords import Passwords


@pytest.fixture
def passwords() -> Iterator[Passwords]:
    passwords = Passwords(time_cost=2, memory_kib=19_456, parallelism=1, max_threads=2)
    yield passwords
    passwords.close()


async def test_a_hash_verifies_only_its_password(passwords: Passwords) -> None:
    password_hash = await passwords.hash("correct horse battery staple")
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify(password_hash, "correct horse battery staple")
    assert not await passwords.verify(password_hash, "Correct horse battery staple")


async def test_a_broken_hash_never_verifies(passwords: Passwords) -> None:
    assert not await passwords.verify("not-a-hash", "whatever")
    assert passwords.needs_rehash("not-a-hash")


def test_hashes_made_with_other_parameters_need_a_rehash(passwords: Passwords) -> None:
    older = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=2).hash("pw")
    assert passwords.needs_rehash(older)
    current = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1).hash("pw")
    assert not passwords.needs_rehash(current)


class SpyHasher(PasswordHasher):
    """Records where and on what the real hasher works."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=19_456, parallelism=1)
        self.threads: list[str] = []
        self.verified: list[str] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.append(threading.current_thread().name)
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.threads.append(threading.current_thread().name)
        self.verified.append(str(hash))
        return super().verify(hash, password)


async def test_hashing_runs_on_a_worker_thread_not_the_event_loop(passwords: Passwords) -> None:
    spy = passwords._hasher = SpyHasher()
    await passwords.hash("correct horse battery staple")
    await passwords.verify_dummy("correct horse battery staple")
    threads = spy.threads
    assert len(threads) == 2
    assert all(name.startswith("argon2") for name in threads)
    assert threading.current_thread().name not in threads


async def test_unknown_emails_cost_a_real_verification(passwords: Passwords) -> None:
    spy = passwords._hasher = SpyHasher()
    await passwords.verify_dummy("anything at all")
    assert len(spy.verified) == 1 and spy.verified[0].startswith("$argon2id$")


def test_parameters_below_the_owasp_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="OWASP"):
        Passwords(time_cost=1, memory_kib=19_456, parallelism=1, max_threads=1)
    with pytest.raises(ValueError, match="OWASP"):
        Passwords(time_cost=2, memory_kib=8_192, parallelism=1, max_threads=1)
