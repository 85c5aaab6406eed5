"""Argon2id hashing: parameters, verification, rehash, niced worker processes, bound."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack

import pytest
from argon2 import PasswordHasher

from edvent_identity.adapters.passwords import Passwords
from edvent_identity.domain.errors import PasswordHashingBusy


def make(**overrides: int) -> Passwords:
    values = {
        "time_cost": 2,
        "memory_kib": 19_456,
        "parallelism": 1,
        "workers": 1,
        "queue": 1,
        "nice": 5,
        **overrides,
    }
    return Passwords(**values)


@pytest.fixture
async def passwords() -> AsyncIterator[Passwords]:
    passwords = make()
    await passwords.start()
    yield passwords
    passwords.close()


async def test_a_hash_verifies_only_its_password(passwords: Passwords) -> None:
    with passwords.slot() as hashing:
        password_hash = await hashing.hash("correct horse battery staple")
        assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hashing.verify(password_hash, "correct horse battery staple")
        assert not await hashing.verify(password_hash, "Correct horse battery staple")


async def test_a_broken_hash_never_verifies(passwords: Passwords) -> None:
    with passwords.slot() as hashing:
        assert not await hashing.verify("not-a-hash", "whatever")
    assert passwords.needs_rehash("not-a-hash")


def test_hashes_made_with_other_parameters_need_a_rehash() -> None:
    passwords = make()
    older = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=2).hash("pw")
    assert passwords.needs_rehash(older)
    current = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1).hash("pw")
    assert not passwords.needs_rehash(current)


async def test_hashing_runs_in_a_worker_process_with_lowered_priority(
    passwords: Passwords,
) -> None:
    worker_pid = await passwords._run(os.getpid)
    assert worker_pid != os.getpid()
    assert await passwords._run(os.nice, 0) == min(19, os.nice(0) + 5)


async def test_unknown_emails_cost_a_real_verification(passwords: Passwords) -> None:
    dummy = await passwords._dummy()
    assert dummy.startswith("$argon2id$")
    with passwords.slot() as hashing:
        started = time.perf_counter()
        await hashing.verify_dummy("anything at all")
        dummy_seconds = time.perf_counter() - started
        real = await hashing.hash("correct horse battery staple")
        started = time.perf_counter()
        await hashing.verify(real, "a wrong password")
        real_seconds = time.perf_counter() - started
    # Same parameters, so the same work; generous bounds for a shared machine.
    assert dummy_seconds > real_seconds / 4


def test_past_workers_plus_queue_a_slot_is_refused_at_once() -> None:
    passwords = make(workers=1, queue=2, retry_after=3)
    with ExitStack() as held:
        for _ in range(3):
            held.enter_context(passwords.slot())
        assert passwords.admitted == 3
        with pytest.raises(PasswordHashingBusy) as refused:
            held.enter_context(passwords.slot())
        assert refused.value.retry_after == 3
        assert passwords.admitted == 3
    assert passwords.admitted == 0
    with passwords.slot():
        assert passwords.admitted == 1


def test_a_slot_is_given_back_when_the_work_fails() -> None:
    passwords = make(workers=1, queue=0)
    with pytest.raises(RuntimeError), passwords.slot():
        raise RuntimeError("boom")
    with passwords.slot():
        pass


def test_parameters_below_the_owasp_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="OWASP"):
        make(time_cost=1)
    with pytest.raises(ValueError, match="OWASP"):
        make(memory_kib=8_192)
