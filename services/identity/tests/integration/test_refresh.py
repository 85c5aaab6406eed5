"""POST /api/v1/auth/refresh and /logout: rotation, reuse detection, revocation."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from edvent_identity.db import tokens as tokens_db


async def refresh(client, token):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refreshing_returns_a_new_pair_and_the_old_token_stops_working(
    client, accounts
) -> None:
    account = await accounts.register()
    response = await refresh(client, account.refresh_token)
    assert response.status_code == 200
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != account.refresh_token
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.json()["id"] == str(account.id)
    assert (await refresh(client, pair["refresh_token"])).status_code == 200


async def test_presenting_a_rotated_token_revokes_its_whole_family(client, accounts, sql) -> None:
    account = await accounts.register()
    second = (await refresh(client, account.refresh_token)).json()["refresh_token"]
    third = (await refresh(client, second)).json()["refresh_token"]

    reused = await refresh(client, account.refresh_token)
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    # The thief's or the victim's latest token: either way, that sign-in is over.
    assert (await refresh(client, third)).status_code == 401
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s AND revoked_at IS NULL",
        (account.id,),
    ) == [(0,)]


async def test_reuse_revokes_only_that_family(client, accounts) -> None:
    account = await accounts.register()
    other_session = await accounts.login(email=account.email)
    await refresh(client, account.refresh_token)
    assert (await refresh(client, account.refresh_token)).status_code == 401
    assert (await refresh(client, other_session.refresh_token)).status_code == 200


async def test_of_two_concurrent_refreshes_of_one_token_exactly_one_wins(
    client, accounts, sql
) -> None:
    account = await accounts.register()
    first, second = await asyncio.gather(
        refresh(client, account.refresh_token), refresh(client, account.refresh_token)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    # Exactly one successor was issued; the loser counts as a reuse, so it is revoked too.
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s", (account.id,)
    ) == [(2,)]
    winner = first if first.status_code == 200 else second
    assert (await refresh(client, winner.json()["refresh_token"])).status_code == 401


async def test_unknown_and_expired_refresh_tokens_are_401(client, accounts, sql) -> None:
    assert (await refresh(client, "not-a-token-we-issued")).status_code == 401
    account = await accounts.register()
    sql(
        "UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 second'"
        " WHERE user_id = %s",
        (account.id,),
    )
    assert (await refresh(client, account.refresh_token)).status_code == 401


async def test_invalid_refresh_bodies_are_422(client) -> None:
    for payload in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 1000}):
        assert (await client.post("/api/v1/auth/refresh", json=payload)).status_code == 422
        assert (await client.post("/api/v1/auth/logout", json=payload)).status_code == 422


async def test_logging_out_revokes_the_refresh_token_and_its_family(client, accounts) -> None:
    account = await accounts.register()
    rotated = (await refresh(client, account.refresh_token)).json()["refresh_token"]
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": rotated})
    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, rotated)).status_code == 401


async def test_logging_out_twice_or_with_an_unknown_token_is_still_204(client, accounts) -> None:
    account = await accounts.register()
    for token in (account.refresh_token, account.refresh_token, "never-issued"):
        response = await client.post("/api/v1/auth/logout", json={"refresh_token": token})
        assert response.status_code == 204


async def test_logging_out_ends_only_that_sign_in(client, accounts) -> None:
    account = await accounts.register()
    phone = await accounts.login(email=account.email)
    await client.post("/api/v1/auth/logout", json={"refresh_token": account.refresh_token})
    assert (await refresh(client, phone.refresh_token)).status_code == 200


async def test_a_refreshed_access_token_carries_the_current_role(client, accounts) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    patched = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert patched.status_code == 200
    pair = (await refresh(client, student.refresh_token)).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["role"] == "INSTRUCTOR"


async def test_refresh_tokens_that_are_not_tokens_are_refused_without_a_500(client) -> None:
    # Unicode, NUL and lone surrogates: hashed, never stored, so at worst unknown.
    for raw in (r"\u0000", "ünïcödé", r"\ud800", "x" * 256):
        content = '{"refresh_token": "' + raw + '"}'
        headers = {"Content-Type": "application/json"}
        refreshed = await client.post("/api/v1/auth/refresh", content=content, headers=headers)
        assert refreshed.status_code in (401, 422), refreshed.text
        logged_out = await client.post("/api/v1/auth/logout", content=content, headers=headers)
        assert logged_out.status_code in (204, 422), logged_out.text


async def test_a_revoked_family_cannot_be_refreshed_even_with_its_newest_token(
    client, accounts
) -> None:
    account = await accounts.register()
    newest = (await refresh(client, account.refresh_token)).json()["refresh_token"]
    # Logging out with an older token of the sign-in ends all of it.
    assert (
        await client.post("/api/v1/auth/logout", json={"refresh_token": account.refresh_token})
    ).status_code == 204
    assert (await refresh(client, newest)).status_code == 401


async def _until_a_lock_is_awaited(sql) -> None:
    deadline = time.monotonic() + 10
    while not sql("SELECT 1 FROM pg_locks WHERE NOT granted"):
        assert time.monotonic() < deadline, "nothing ever waited for a lock"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("ending", ["logout", "reuse"])
async def test_a_sign_in_ended_during_a_refresh_also_loses_the_new_token(
    client, accounts, sql, monkeypatch, ending
) -> None:
    account = await accounts.register()
    older = account.refresh_token
    newest = (await refresh(client, older)).json()["refresh_token"]
    # Hold a refresh of the newest token just before it stores its successor.
    reached, go = asyncio.Event(), asyncio.Event()
    store = tokens_db.add

    async def paused_add(*args, **kwargs):
        reached.set()
        await go.wait()
        return await store(*args, **kwargs)

    monkeypatch.setattr(tokens_db, "add", paused_add)
    refreshing = asyncio.create_task(refresh(client, newest))
    await reached.wait()
    # Meanwhile the sign-in ends: a logout, or the older token presented again.
    ending_call = (
        client.post("/api/v1/auth/logout", json={"refresh_token": older})
        if ending == "logout"
        else refresh(client, older)
    )
    ended = asyncio.create_task(ending_call)
    await _until_a_lock_is_awaited(sql)
    go.set()
    refreshed, _ = await asyncio.gather(refreshing, ended)
    monkeypatch.setattr(tokens_db, "add", store)
    # Either the refresh came first and its successor was revoked with the family, or
    # it came second and found its token revoked; never a live token afterwards.
    if refreshed.status_code == 200:
        assert (await refresh(client, refreshed.json()["refresh_token"])).status_code == 401
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s AND revoked_at IS NULL",
        (account.id,),
    ) == [(0,)]


async def test_a_sign_in_older_than_the_family_lifetime_cannot_be_refreshed(
    client, accounts, sql
) -> None:
    account = await accounts.register()
    # The token itself is fresh; the login it comes from is 30 days and a minute old.
    sql(
        "UPDATE identity.refresh_tokens"
        " SET family_started_at = now() - interval '30 days 1 minute' WHERE user_id = %s",
        (account.id,),
    )
    response = await refresh(client, account.refresh_token)
    assert response.status_code == 401


async def test_refreshed_tokens_expire_with_their_family(client, accounts, sql) -> None:
    account = await accounts.register()
    sql(
        "UPDATE identity.refresh_tokens"
        " SET family_started_at = now() - interval '29 days' WHERE user_id = %s",
        (account.id,),
    )
    response = await refresh(client, account.refresh_token)
    assert response.status_code == 200
    [(left,)] = sql(
        "SELECT extract(epoch FROM expires_at - now()) FROM identity.refresh_tokens"
        " WHERE user_id = %s AND rotated_at IS NULL",
        (account.id,),
    )
    # One day left of the family's 30, not another 30 days of idle lifetime.
    assert 86_000 < float(left) <= 86_400
