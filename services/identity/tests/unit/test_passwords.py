"""Argon2id hashing: parameters, verification, rehash, niced worker processes, bound."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest
from argon2 import PasswordHasher

from edvent_identity.adapters.passwords import Passwords
from edvent_identity.domain.errors import PasswordHashingBusy


def make(**overrides: float) -> Passwords:
    values = {
        "time_cost": 2,
        "memory_kib": 19_456,
        "parallelism": 1,
        "workers": 1,
        "queue": 1,
        "nice": 5,
        **overrides,
    }
    return Passwords(**values)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], *, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


@pytest.fixture
async def passwords() -> AsyncIterator[Passwords]:
    passwords = make()
    await passwords.start()
    yield passwords
    passwords.close()


async def test_a_hash_verifies_only_its_password(passwords: Passwords) -> None:
    async with passwords.slot() as hashing:
        password_hash = await hashing.hash("correct horse battery staple")
        assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hashing.verify(password_hash, "correct horse battery staple")
        assert not await hashing.verify(password_hash, "Correct horse battery staple")


async def test_a_broken_hash_never_verifies(passwords: Passwords) -> None:
    async with passwords.slot() as hashing:
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
    async with passwords.slot() as hashing:
        started = time.perf_counter()
        await hashing.verify_dummy("anything at all")
        dummy_seconds = time.perf_counter() - started
        real = await hashing.hash("correct horse battery staple")
        started = time.perf_counter()
        await hashing.verify(real, "a wrong password")
        real_seconds = time.perf_counter() - started
    # Same parameters, so the same work; generous bounds for a shared machine.
    assert dummy_seconds > real_seconds / 4


async def test_past_workers_plus_queue_without_a_waiting_room_a_slot_is_refused_at_once() -> None:
    passwords = make(workers=1, queue=2, retry_after=3)
    async with AsyncExitStack() as held:
        for _ in range(3):
            await held.enter_async_context(passwords.slot())
        assert passwords.admitted == 3
        with pytest.raises(PasswordHashingBusy) as refused:
            await held.enter_async_context(passwords.slot())
        assert refused.value.retry_after == 3
        assert passwords.admitted == 3
    assert passwords.admitted == 0
    async with passwords.slot():
        assert passwords.admitted == 1


async def test_past_workers_plus_queue_requests_wait_their_turn() -> None:
    passwords = make(workers=1, queue=0, waiting=5, wait_seconds=30)
    order: list[int] = []

    async def hold(n: int, release: asyncio.Event) -> None:
        async with passwords.slot():
            order.append(n)
            await release.wait()

    releases = [asyncio.Event() for _ in range(3)]
    tasks = [asyncio.create_task(hold(n, releases[n])) for n in range(3)]
    await until(lambda: passwords.waiting == 2)
    assert (order, passwords.admitted) == ([0], 1)
    for n in range(3):
        releases[n].set()
        await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    assert (passwords.admitted, passwords.waiting) == (0, 0)


async def test_a_wait_longer_than_allowed_is_refused_and_leaves_no_trace() -> None:
    passwords = make(workers=1, queue=0, waiting=5, wait_seconds=0.2, retry_after=2)
    async with passwords.slot():
        started = time.perf_counter()
        with pytest.raises(PasswordHashingBusy) as refused:
            async with passwords.slot():
                pass
        assert 0.15 < time.perf_counter() - started < 5
        assert refused.value.retry_after == 2
        assert (passwords.admitted, passwords.waiting) == (1, 0)
    assert passwords.admitted == 0


async def test_past_the_waiting_room_a_slot_is_refused_at_once() -> None:
    passwords = make(workers=1, queue=0, waiting=1, wait_seconds=30)
    async with passwords.slot():
        waiter = asyncio.create_task(passwords.slot().__aenter__())
        await until(lambda: passwords.waiting == 1)
        with pytest.raises(PasswordHashingBusy):
            async with passwords.slot():
                pass
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # A waiter that gave up (its client went away) takes no slot with it.
        assert (passwords.admitted, passwords.waiting) == (1, 0)
    assert passwords.admitted == 0


async def test_a_slot_is_given_back_when_the_work_fails() -> None:
    passwords = make(workers=1, queue=0)
    with pytest.raises(RuntimeError):
        async with passwords.slot():
            raise RuntimeError("boom")
    async with passwords.slot():
        pass


def test_parameters_below_the_owasp_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="OWASP"):
        make(time_cost=1)
    with pytest.raises(ValueError, match="OWASP"):
        make(memory_kib=8_192)
