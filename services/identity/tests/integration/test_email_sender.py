"""The email outbox and its sender: nothing lost, nothing sent twice, retried with
backoff, one Message-ID per row."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from edvent_identity.adapters.smtp import SmtpSender
from edvent_localstack.process import free_port


def email_rows(sql, address):
    return sql(
        "SELECT id, attempts, sent_at, failed_at, next_attempt_at > now(), last_error, "
        "text_body IS NULL AND html_body IS NULL FROM identity.email_outbox "
        "WHERE to_address = %s ORDER BY created_at",
        (address,),
    )


async def test_a_sent_message_carries_its_row_id_and_loses_its_bodies(
    client, identity, accounts, mailbox, sql
) -> None:
    account = await accounts.register()
    [(row_id, attempts, sent_at, *_)] = email_rows(sql, account.email)
    assert attempts == 0 and sent_at is None
    assert await identity.deliver_emails() >= 1
    [(_, attempts, sent_at, failed_at, _, error, bodies_gone)] = email_rows(sql, account.email)
    assert (attempts, failed_at, error, bodies_gone) == (1, None, None, True)
    assert sent_at is not None
    [summary] = mailbox.messages(to=account.email)
    assert summary["MessageID"] == f"{row_id}@edvent.local"
    # Nothing more is due: a second pass sends nothing again.
    await identity.deliver_emails()
    assert len(mailbox.messages(to=account.email)) == 1


async def test_a_failed_delivery_is_retried_later_and_then_given_up(
    client, identity, accounts, mailbox, sql, monkeypatch
) -> None:
    account = await accounts.register()
    # Nothing listens there: every attempt fails.
    dead = SmtpSender(replace(identity.mailer.settings, port=free_port(), timeout=2))
    monkeypatch.setattr(identity, "mailer", dead)
    monkeypatch.setattr(identity, "delivery", replace(identity.delivery, max_attempts=2))
    assert await identity.deliver_emails() == 0
    [(_, attempts, sent_at, failed_at, later, error, bodies_gone)] = email_rows(sql, account.email)
    assert (attempts, sent_at, failed_at, later, bodies_gone) == (1, None, None, True, False)
    assert "ConnectionRefusedError" in error
    # Not due yet: the next pass leaves it alone.
    await identity.deliver_emails()
    assert email_rows(sql, account.email)[0][1] == 1
    sql("UPDATE identity.email_outbox SET next_attempt_at = now() WHERE to_address = %s",
        (account.email,))  # fmt: skip
    await identity.deliver_emails()
    [(_, attempts, sent_at, failed_at, _, _, bodies_gone)] = email_rows(sql, account.email)
    assert (attempts, sent_at, bodies_gone) == (2, None, True)
    assert failed_at is not None
    assert mailbox.messages(to=account.email) == []


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[int, threading.Event]]:
    """An SMTP server that greets, then never answers: a sender talking to it hangs
    mid-delivery until its timeout, or until it is killed."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    talking = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections.append(connection)
            connection.sendall(b"220 stalling.test ESMTP\r\n")
            if connection.recv(1024):
                talking.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, talking
    finally:
        listener.close()
        for connection in connections:
            connection.close()


async def test_a_sender_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    client, identity, accounts, mailbox, sql, identity_url, stalling_smtp
) -> None:
    account = await accounts.register()
    port, talking = stalling_smtp
    env = dict(
        os.environ,
        IDENTITY_DATABASE_URL=identity_url,
        IDENTITY_ENVIRONMENT="test",
        IDENTITY_SMTP_HOST="127.0.0.1",
        IDENTITY_SMTP_PORT=str(port),
        IDENTITY_SMTP_TIMEOUT_SECONDS="60",
    )
    sender = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "edvent-identity"),
        "send-emails",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reached = await asyncio.to_thread(talking.wait, 60)
        assert reached, "the sender never reached the SMTP server"
        sender.send_signal(signal.SIGKILL)
        await asyncio.wait_for(sender.wait(), timeout=10)
    finally:
        if sender.returncode is None:
            sender.kill()
    # Claimed (one attempt, held past the dead sender's SMTP timeout), not sent, not lost.
    [(row_id, attempts, sent_at, failed_at, held, _, bodies_gone)] = email_rows(sql, account.email)
    assert (attempts, sent_at, failed_at, held, bodies_gone) == (1, None, None, True, False)
    # Meanwhile no other sender takes it...
    await identity.deliver_emails()
    assert mailbox.messages(to=account.email) == []
    # ...until the claim runs out (time passes).
    sql("UPDATE identity.email_outbox SET next_attempt_at = now() WHERE id = %s", (row_id,))
    deadline = time.monotonic() + 20
    while not mailbox.messages(to=account.email) and time.monotonic() < deadline:
        await identity.deliver_emails()
    for _ in range(3):
        await identity.deliver_emails()
    [summary] = mailbox.messages(to=account.email)
    assert summary["MessageID"] == f"{row_id}@edvent.local"
    assert email_rows(sql, account.email)[0][1:4:2] == (2, None)


async def test_forgetting_a_user_removes_their_mail_and_spends_their_tokens(
    client, identity, accounts, sql
) -> None:
    from edvent_identity.usecases import accounts as accounts_usecases

    account = await accounts.register()
    other = await accounts.register()
    await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    async with identity.transaction() as session:
        await accounts_usecases.forget_mail_and_tokens(session=session, user_id=account.id)
    assert email_rows(sql, account.email) == []
    assert sql(
        "SELECT count(*) FROM identity.one_time_tokens WHERE user_id = %s AND used_at IS NULL",
        (account.id,),
    ) == [(0,)]
    assert len(email_rows(sql, other.email)) == 1
