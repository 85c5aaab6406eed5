"""Accounts through the gateway: every session ending everywhere within seconds, a
reset by the link Mailpit received, disable and enable, verification.

Mail is read through Mailpit's HTTP API, as the README tour does.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from edvent_localstack.mailpit import MailpitClient

from .conftest import Platform
from .helpers import PASSWORD, admin, login, register, until

NEW_PASSWORD = "a brand new passphrase"
SECONDS = 30  # "within seconds", with room for a busy machine


async def refused_everywhere(gateway: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """The token stops working in identity at once and in content and assessment as
    soon as they have the event."""
    assert (await gateway.get("/api/v1/users/me", headers=auth)).status_code == 401
    for path in ("/api/v1/courses?owner=me", "/api/v1/exams"):
        answer = await until(
            lambda path=path: gateway.get(path, headers=auth),
            lambda r: r.status_code == 401,
            timeout=SECONDS,
        )
        assert answer.status_code == 401, (path, answer.status_code, answer.text)


async def works_everywhere(gateway: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for path in ("/api/v1/users/me", "/api/v1/courses?owner=me", "/api/v1/exams"):
        answer = await gateway.get(path, headers=auth)
        assert answer.status_code == 200, (path, answer.text)


async def mail_to(platform: Platform, address: str, subject: str) -> dict:
    mailbox = MailpitClient(platform.mailpit)
    deadline = time.monotonic() + SECONDS
    while True:
        found = [
            m for m in await asyncio.to_thread(mailbox.messages, to=address)
            if m["Subject"] == subject
        ]  # fmt: skip
        if found:
            return await asyncio.to_thread(mailbox.message, found[0]["ID"])
        assert time.monotonic() < deadline, f"no {subject!r} for {address}"
        await asyncio.sleep(0.3)


def token_in(text: str, origin: str, path: str) -> str:
    match = re.search(re.escape(origin + path) + r"\?token=[A-Za-z0-9_%\-]+", text)
    assert match, text
    return parse_qs(urlsplit(match.group(0)).query)["token"][0]


async def test_a_changed_password_ends_the_old_token_in_every_service(gateway) -> None:
    account = await register(gateway)
    await works_everywhere(gateway, account.auth)
    changed = await gateway.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert changed.status_code == 204, changed.text
    await refused_everywhere(gateway, account.auth)
    old = await gateway.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    # A token issued after the cut-off works everywhere at once.
    await works_everywhere(gateway, await login(gateway, account.email, NEW_PASSWORD))


async def test_a_reset_by_the_emailed_link_sets_the_new_password(gateway, platform) -> None:
    account = await register(gateway)
    asked = await gateway.post("/api/v1/auth/password-reset", json={"email": account.email})
    assert asked.status_code == 202
    message = await mail_to(platform, account.email, "Reset your Edvent password")
    token = token_in(message["Text"], platform.gateway, "/reset-password")
    confirmed = await gateway.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text
    await refused_everywhere(gateway, account.auth)
    old = await gateway.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    await works_everywhere(gateway, await login(gateway, account.email, NEW_PASSWORD))
    await mail_to(platform, account.email, "Your Edvent password was changed")
    again = await gateway.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "one more passphrase"},
    )
    assert again.status_code == 400


async def test_a_reset_for_an_unknown_address_changes_nothing_and_sends_nothing(
    gateway, platform
) -> None:
    bystander = await register(gateway)
    address = "nobody.here@example.com"
    asked = await gateway.post("/api/v1/auth/password-reset", json={"email": address})
    assert asked.status_code == 202
    # The bystander's verification mail arriving shows the sender has run meanwhile.
    await mail_to(platform, bystander.email, "Confirm your email address for Edvent")
    await asyncio.sleep(2)  # a pass of the sender or two more, for an email that must not come
    mailbox = MailpitClient(platform.mailpit)
    assert await asyncio.to_thread(mailbox.messages, to=address) == []
    await works_everywhere(gateway, bystander.auth)


async def test_a_disabled_account_cannot_sign_in_until_enabled(gateway) -> None:
    account = await register(gateway)
    admin_auth = await admin(gateway)
    disabled = await gateway.patch(
        f"/api/v1/users/{account.id}", json={"disabled": True}, headers=admin_auth
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    refused = await gateway.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:edvent:problem:account-disabled"
    await refused_everywhere(gateway, account.auth)
    enabled = await gateway.patch(
        f"/api/v1/users/{account.id}", json={"disabled": False}, headers=admin_auth
    )
    assert enabled.status_code == 200
    await works_everywhere(gateway, await login(gateway, account.email))


async def test_the_verification_link_verifies_the_address(gateway, platform) -> None:
    account = await register(gateway)
    me = await gateway.get("/api/v1/users/me", headers=account.auth)
    assert me.json()["email_verified"] is False
    message = await mail_to(platform, account.email, "Confirm your email address for Edvent")
    token = token_in(message["Text"], platform.gateway, "/verify-email")
    verified = await gateway.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 204
    me = await gateway.get("/api/v1/users/me", headers=account.auth)
    assert me.json()["email_verified"] is True
