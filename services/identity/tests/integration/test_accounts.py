"""Accounts people manage: sign out everywhere, change and reset a password, verify an
address, an ADMIN's disable; every session ending at once in identity itself."""

from __future__ import annotations

import re
import secrets
import statistics
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from edvent_identity.domain.tokens import access_token_claims

from .conftest import PASSWORD, WEB_ORIGIN

NEW_PASSWORD = "a brand new passphrase"


def me(client, auth):
    return client.get("/api/v1/users/me", headers=auth)


async def login(client, email, password=PASSWORD, **headers):
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def refresh(client, token):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def signed_at(identity, *, user_id, issued_at):
    key = await identity.keys.signing_key()
    return key.sign(
        access_token_claims(
            user_id=user_id,
            role="STUDENT",
            issuer=identity.policy.issuer,
            audience=identity.policy.audience,
            issued_at=issued_at,
            lifetime=identity.policy.access_lifetime,
            token_id=str(uuid.uuid4()),
        )
    )


def revocations(sql, user_id):
    return sql(
        "SELECT data FROM identity.outbox WHERE key = %s AND ce_type = %s ORDER BY id",
        (str(user_id), "edvent.identity.user.sessions_revoked.v1"),
    )


def link_token(text: str, path: str) -> str:
    match = re.search(re.escape(WEB_ORIGIN + path) + r"\?token=([A-Za-z0-9_%\-]+)", text)
    assert match, text
    return parse_qs(urlsplit(match.group(0)).query)["token"][0]


async def delivered(identity, mailbox, address, *, count=1):
    """The messages to `address` once `count` arrived (delivering what is due)."""
    deadline = time.monotonic() + 20
    while True:
        await identity.deliver_emails()
        found = mailbox.messages(to=address)
        if len(found) >= count or time.monotonic() > deadline:
            return [mailbox.message(m["ID"]) for m in found]


# -- the session cut-off -------------------------------------------------------------


async def test_logout_all_ends_every_session_at_once(client, accounts, sql) -> None:
    account = await accounts.register()
    second = await accounts.login(email=account.email)
    answer = await client.post("/api/v1/auth/logout-all", headers=account.auth)
    assert answer.status_code == 204
    for signed_in in (account, second):
        assert (await me(client, signed_in.auth)).status_code == 401
        assert (await refresh(client, signed_in.refresh_token)).status_code == 401
    [(payload,)] = revocations(sql, account.id)
    assert payload["reason"] == "logout_all"
    [(not_before,)] = sql("SELECT not_before FROM identity.users WHERE id = %s", (account.id,))
    assert datetime.fromisoformat(payload["not_before"]) == not_before
    # A sign-in after the cut-off works at once, in the same second.
    again = await accounts.login(email=account.email)
    assert (await me(client, again.auth)).status_code == 200


async def test_a_token_from_just_before_the_cutoff_is_refused_and_just_after_counts(
    client, identity, accounts, sql
) -> None:
    account = await accounts.register()
    assert (await client.post("/api/v1/auth/logout-all", headers=account.auth)).status_code == 204
    [(cut,)] = sql("SELECT not_before FROM identity.users WHERE id = %s", (account.id,))
    before = await signed_at(
        identity, user_id=account.id, issued_at=cut - timedelta(milliseconds=2)
    )
    after = await signed_at(identity, user_id=account.id, issued_at=cut + timedelta(milliseconds=1))
    refused = await me(client, {"Authorization": f"Bearer {before}"})
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:edvent:problem:session-ended"
    assert (await me(client, {"Authorization": f"Bearer {after}"})).status_code == 200


async def test_logout_all_needs_a_live_session(client, accounts) -> None:
    assert (await client.post("/api/v1/auth/logout-all")).status_code == 401
    account = await accounts.register()
    await client.post("/api/v1/auth/logout-all", headers=account.auth)
    assert (await client.post("/api/v1/auth/logout-all", headers=account.auth)).status_code == 401


# -- changing the password -----------------------------------------------------------


async def test_changing_the_password_ends_every_session_and_tells_the_user(
    client, identity, accounts, sql, mailbox
) -> None:
    account = await accounts.register()
    answer = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert answer.status_code == 204, answer.text
    assert (await me(client, account.auth)).status_code == 401
    assert (await refresh(client, account.refresh_token)).status_code == 401
    assert (await login(client, account.email)).status_code == 401
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200
    assert [p["reason"] for (p,) in revocations(sql, account.id)] == ["password_changed"]
    messages = await delivered(identity, mailbox, account.email, count=2)
    assert "Your Edvent password was changed" in [m["Subject"] for m in messages]


async def test_a_wrong_current_password_or_a_short_new_one_changes_nothing(
    client, accounts, sql
) -> None:
    account = await accounts.register()
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    short = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=account.auth,
    )
    assert short.status_code == 422
    unauthenticated = await client.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert unauthenticated.status_code == 401
    assert (await me(client, account.auth)).status_code == 200
    assert revocations(sql, account.id) == []


async def test_guessing_the_current_password_is_throttled_like_logins(client, accounts) -> None:
    account = await accounts.register()
    statuses = [
        (
            await client.post(
                "/api/v1/auth/password",
                json={"current_password": f"guess {n}", "new_password": NEW_PASSWORD},
                headers=account.auth,
            )
        ).status_code
        for n in range(6)
    ]
    assert statuses == [403] * 5 + [429]


# -- disabling -----------------------------------------------------------------------


async def test_a_disabled_user_cannot_sign_in_and_their_tokens_stop_working(
    client, accounts, outbox_rows, sql
) -> None:
    admin = await accounts.admin()
    account = await accounts.register()
    answer = await client.patch(
        f"/api/v1/users/{account.id}", json={"disabled": True}, headers=admin.auth
    )
    assert answer.status_code == 200
    assert answer.json()["disabled"] is True
    refused = await login(client, account.email)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:edvent:problem:account-disabled"
    # The wrong password still says only "wrong": the 403 is for the owner alone.
    assert (await login(client, account.email, "not the password")).status_code == 401
    assert (await me(client, account.auth)).status_code == 401
    assert (await refresh(client, account.refresh_token)).status_code == 401
    assert outbox_rows(account.id)[-2:] == [
        "edvent.identity.user.disabled.v1",
        "edvent.identity.user.sessions_revoked.v1",
    ]
    [(payload,)] = revocations(sql, account.id)
    assert payload["reason"] == "disabled"

    enabled = await client.patch(
        f"/api/v1/users/{account.id}", json={"disabled": False}, headers=admin.auth
    )
    assert enabled.status_code == 200
    assert enabled.json()["disabled"] is False
    again = await accounts.login(email=account.email)
    assert (await me(client, again.auth)).status_code == 200
    [(last,)] = sql(
        "SELECT data FROM identity.outbox WHERE key = %s AND ce_type = %s ORDER BY id DESC LIMIT 1",
        (str(account.id), "edvent.identity.user.disabled.v1"),
    )
    assert last["disabled"] is False


async def test_an_admin_cannot_disable_themselves_and_students_cannot_disable(
    client, accounts
) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    itself = await client.patch(
        f"/api/v1/users/{admin.id}", json={"disabled": True}, headers=admin.auth
    )
    assert itself.status_code == 409
    by_student = await client.patch(
        f"/api/v1/users/{admin.id}", json={"disabled": True}, headers=student.auth
    )
    assert by_student.status_code == 403
    empty = await client.patch(f"/api/v1/users/{student.id}", json={}, headers=admin.auth)
    assert empty.status_code == 422


# -- resetting by email --------------------------------------------------------------


async def test_a_reset_link_sets_a_new_password_once(
    client, identity, accounts, mailbox, sql
) -> None:
    account = await accounts.register()
    asked = await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    assert asked.status_code == 202
    messages = await delivered(identity, mailbox, account.email, count=2)
    [reset] = [m for m in messages if m["Subject"] == "Reset your Edvent password"]
    token = link_token(reset["Text"], "/reset-password")
    assert link_token(reset["HTML"].replace("&amp;", "&"), "/reset-password") == token
    # Stored only hashed.
    assert (
        sql(
            "SELECT 1 FROM identity.one_time_tokens WHERE position(%s::bytea in token_hash) > 0",
            (token.encode(),),
        )
        == []
    )

    confirmed = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text
    assert (await login(client, account.email)).status_code == 401
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200
    assert (await me(client, account.auth)).status_code == 401
    assert [p["reason"] for (p,) in revocations(sql, account.id)] == ["password_reset"]
    again = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "yet another passphrase"},
    )
    assert again.status_code == 400
    assert again.headers["content-type"] == "application/problem+json"
    changed = await delivered(identity, mailbox, account.email, count=3)
    assert "Your Edvent password was changed" in [m["Subject"] for m in changed]


async def test_unknown_or_expired_reset_tokens_are_400(client, identity, accounts, mailbox, sql):
    account = await accounts.register()
    unknown = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": secrets.token_urlsafe(32), "new_password": NEW_PASSWORD},
    )
    assert unknown.status_code == 400
    await client.post("/api/v1/auth/password-reset", json={"email": account.email})
    messages = await delivered(identity, mailbox, account.email, count=2)
    [reset] = [m for m in messages if m["Subject"] == "Reset your Edvent password"]
    token = link_token(reset["Text"], "/reset-password")
    [(expires_at, created_at)] = sql(
        "SELECT expires_at, created_at FROM identity.one_time_tokens "
        "WHERE user_id = %s AND purpose = 'password_reset'",
        (account.id,),
    )
    assert abs(expires_at - created_at - timedelta(minutes=30)) < timedelta(seconds=5)
    sql(
        "UPDATE identity.one_time_tokens SET expires_at = now() - interval '1 second' "
        "WHERE user_id = %s",
        (account.id,),
    )
    expired = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert expired.status_code == 400
    assert (await me(client, account.auth)).status_code == 200


async def test_a_reset_for_an_unknown_address_changes_nothing_and_sends_nothing(
    client, identity, accounts, mailbox, sql
) -> None:
    address = accounts.email()
    answer = await client.post("/api/v1/auth/password-reset", json={"email": address})
    assert answer.status_code == 202
    assert answer.content == b""
    assert sql("SELECT count(*) FROM identity.email_outbox WHERE to_address = %s", (address,)) == [
        (0,)
    ]
    assert sql("SELECT count(*) FROM identity.one_time_tokens") == [(0,)]
    await identity.deliver_emails()
    assert mailbox.messages(to=address) == []


async def test_known_and_unknown_addresses_take_the_same_time(client, accounts) -> None:
    known = [(await accounts.register()).email for _ in range(6)]
    unknown = [accounts.email() for _ in range(6)]

    async def timed(email: str, n: int) -> float:
        started = time.perf_counter()
        answer = await client.post(
            "/api/v1/auth/password-reset",
            json={"email": email},
            headers={"X-Forwarded-For": f"10.9.{n}.1"},
        )
        assert answer.status_code == 202
        return time.perf_counter() - started

    # Warm both paths, then interleave so load drifts hit both alike.
    await timed(accounts.email(), 250)
    times_known, times_unknown = [], []
    for n, (k, u) in enumerate(zip(known, unknown, strict=True)):
        times_known.append(await timed(k, 2 * n))
        times_unknown.append(await timed(u, 2 * n + 1))
    ratio = statistics.median(times_known) / statistics.median(times_unknown)
    assert 0.5 < ratio < 2.0, (times_known, times_unknown)


async def test_reset_requests_are_limited_per_client_and_per_address(
    client, identity, accounts, mailbox
) -> None:
    account = await accounts.register()
    statuses = [
        (
            await client.post(
                "/api/v1/auth/password-reset",
                json={"email": account.email},
                headers={"X-Forwarded-For": f"10.8.0.{n}"},
            )
        ).status_code
        for n in range(5)
    ]
    # The same answer past the address's limit of 3, but no more emails.
    assert statuses == [202] * 5
    messages = await delivered(identity, mailbox, account.email, count=5)
    resets = [m for m in messages if m["Subject"] == "Reset your Edvent password"]
    assert len(resets) == 3

    client_statuses = [
        (
            await client.post(
                "/api/v1/auth/password-reset",
                json={"email": accounts.email()},
                headers={"X-Forwarded-For": "10.7.0.1"},
            )
        ).status_code
        for _ in range(21)
    ]
    assert client_statuses[:20] == [202] * 20
    assert client_statuses[20] == 429


# -- verifying the address -----------------------------------------------------------


async def test_registration_sends_a_link_that_verifies_the_address(
    client, identity, accounts, mailbox
) -> None:
    account = await accounts.register()
    assert (await me(client, account.auth)).json()["email_verified"] is False
    [message] = await delivered(identity, mailbox, account.email)
    assert message["Subject"] == "Confirm your email address for Edvent"
    assert message["HTML"].startswith("<!doctype html>")
    token = link_token(message["Text"], "/verify-email")
    answer = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert answer.status_code == 204
    assert (await me(client, account.auth)).json()["email_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    unknown = await client.post("/api/v1/auth/verify-email", json={"token": "nope"})
    assert unknown.status_code == 400


async def test_the_bootstrap_admin_counts_as_verified(client, accounts) -> None:
    admin = await accounts.admin()
    assert (await me(client, admin.auth)).json()["email_verified"] is True


async def test_unverified_users_are_promoted_as_before_unless_configured(
    client, identity, accounts, mailbox, monkeypatch
) -> None:
    admin = await accounts.admin()
    first, second = await accounts.register(), await accounts.register()
    promoted = await client.patch(
        f"/api/v1/users/{first.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert promoted.status_code == 200

    monkeypatch.setattr(
        identity,
        "settings",
        identity.settings.model_copy(update={"require_verified_email_for_instructor": True}),
    )
    refused = await client.patch(
        f"/api/v1/users/{second.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:edvent:problem:email-not-verified"
    assert "verified" in refused.json()["detail"]
    [message] = await delivered(identity, mailbox, second.email)
    token = link_token(message["Text"], "/verify-email")
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 204
    promoted = await client.patch(
        f"/api/v1/users/{second.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert promoted.status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/password-reset", {"email": "not an address"}),
        ("/api/v1/auth/password-reset/confirm", {"token": "", "new_password": NEW_PASSWORD}),
        ("/api/v1/auth/password-reset/confirm", {"token": "t", "new_password": "x" * 129}),
        ("/api/v1/auth/verify-email", {"token": "x" * 300}),
    ],
)
async def test_malformed_account_requests_are_422(client, path, body) -> None:
    answer = await client.post(path, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
